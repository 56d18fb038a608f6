import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * The per-build log file: every command and all of its output, with
 * CodeBuild-style `[Container] <time> ...` lines around them, so the file reads
 * like the CloudWatch log of a real build.
 */
export class BuildLog {
  private readonly fd: number;
  private atLineStart = true;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
  }

  /** A line from the emulator itself. */
  line(text: string): void {
    if (!this.atLineStart) this.write('\n');
    this.write(`[Container] ${timestamp()} ${text}\n`);
  }

  /** Raw command output, as it arrives. */
  output(text: string): void {
    this.write(text);
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(text: string): void {
    if (text === '') return;
    writeSync(this.fd, text);
    this.atLineStart = text.endsWith('\n');
  }
}

/** `2026/11/22 01:47:03`, the format CodeBuild's container log uses. */
function timestamp(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
