/** Setup of the 'js' test project: the TypeScript kernels. */
import { setBackend } from '../../src/kernels/backend.js';

setBackend('js');
