/** Setup of the 'wasm' test project: the WebAssembly kernels for every product, however small. */
import { setBackend, setWasmEverySize } from '../../src/kernels/backend.js';

setBackend('wasm');
setWasmEverySize(true);
