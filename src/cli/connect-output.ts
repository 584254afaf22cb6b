import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';

/**
 * What `wsx connect` writes. On a terminal, lines are marked as wscat marks them: `> ` for
 * what is sent, `< ` for what arrives; when the keyboard is the input too, lines are typed at
 * a `> ` prompt that messages arriving meanwhile do not break up. Piped, the output is the
 * messages alone, one per line, as scripts expect.
 */
export class ConnectOutput {
  /** The prompt, while lines are typed at one. */
  private prompt: Interface | null = null;

  constructor(private readonly marked: boolean) {}

  /** Reads standard input by lines: at a `> ` prompt when it and the output are a terminal. */
  readLines(): Interface {
    if (!this.marked || process.stdin.isTTY !== true) return createInterface({ input: process.stdin });
    const prompt = createInterface({
      input: process.stdin,
      output: process.stdout,
      prompt: '> ',
      terminal: true,
    });
    prompt.once('close', () => {
      // Leave no bare prompt behind for what is written next (or for the shell's prompt).
      this.prompt = null;
      clearPromptLine();
    });
    // The terminal is in raw mode now, so ^C reaches us as input rather than as a signal:
    // it ends the input like ^D (the connection closes with 1000); a second ^C, with the
    // terminal back to normal, interrupts.
    prompt.once('SIGINT', () => prompt.close());
    this.prompt = prompt;
    prompt.prompt();
    return prompt;
  }

  /** A line of input was taken (sent, kept for later, or run as a command): prompt again. */
  lineTaken(): void {
    this.prompt?.prompt();
  }

  /** A message arrived. */
  received(text: string): void {
    this.write(process.stdout, this.marked ? `< ${text}\n` : `${text}\n`);
  }

  /** A line was sent; shown when marked, unless it was typed at the prompt and shows there already. */
  sent(text: string): void {
    if (this.marked && this.prompt === null) this.write(process.stdout, `> ${text}\n`);
  }

  /** A `wsx: ...` line on standard error. */
  status(message: string): void {
    this.write(process.stderr, `wsx: ${message}\n`);
  }

  private write(stream: NodeJS.WriteStream, text: string): void {
    const prompt = this.prompt;
    if (prompt === null) {
      stream.write(text);
      return;
    }
    // Write over the prompt line, then draw it again below with what was typed so far.
    clearPromptLine();
    stream.write(text);
    prompt.prompt(true);
  }
}

function clearPromptLine(): void {
  clearLine(process.stdout, 0);
  cursorTo(process.stdout, 0);
}
