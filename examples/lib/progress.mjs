// Training progress for the examples: on a terminal, one live line rewritten in place with `\r`
// (task, step/total, loss, steps/s, ETA); otherwise (a pipe, a CI log) a plain line every ~10%.

const fmtSeconds = (s) => (!Number.isFinite(s) ? '?' : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`);

export class Progress {
  /**
   * @param {string} task label, e.g. "adding/LSTM"
   * @param {number} total steps
   * @param {{stream?: NodeJS.WriteStream, tty?: boolean, lossDigits?: number}} [options]
   */
  constructor(task, total, options = {}) {
    this.task = task;
    this.total = total;
    this.stream = options.stream ?? process.stdout;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.lossDigits = options.lossDigits ?? 4;
    this.start = performance.now();
    this.lastDraw = 0;
    this.every = Math.max(1, Math.round(total / 10));
  }

  line(step, loss, extra) {
    const secs = (performance.now() - this.start) / 1000;
    const rate = step / Math.max(secs, 1e-9);
    const eta = (this.total - step) / rate;
    const w = String(this.total).length;
    return `${this.task.padEnd(14)} step ${String(step).padStart(w)}/${this.total}  loss ${loss.toFixed(this.lossDigits)}` +
      `${extra ? `  ${extra}` : ''}  ${rate.toFixed(1).padStart(6)} steps/s  ETA ${fmtSeconds(eta)}`;
  }

  /** Reports step (1-based) with the current (smoothed) loss; `extra` is appended, e.g. "val 2.10". */
  update(step, loss, extra = '') {
    if (this.tty) {
      const now = performance.now();
      if (now - this.lastDraw < 80 && step < this.total) return;
      this.lastDraw = now;
      const cols = this.stream.columns || 0; // keep to one terminal row, or \r cannot rewrite it
      const text = this.line(step, loss, extra);
      this.stream.write(`\r${cols > 20 && text.length >= cols ? text.slice(0, cols - 1) : text}\x1b[K`);
    } else if (step % this.every === 0 || step === this.total) {
      this.stream.write(`${this.line(step, loss, extra)}\n`);
    }
  }

  /** Ends the live line; returns the elapsed seconds. */
  done() {
    if (this.tty) this.stream.write('\r\x1b[K');
    return (performance.now() - this.start) / 1000;
  }
}
