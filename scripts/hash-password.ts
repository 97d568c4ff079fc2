/**
 * Prints the scrypt hash of a console user's password, for `console.users[].passwordHash` in the
 * tenants file. The password is read from standard input (never from the command line, where it
 * would land in the shell history and the process list):
 *
 *   npx tsx scripts/hash-password.ts                      # asks for it (not echoed)
 *   printf '%s' "$PASSWORD" | npx tsx scripts/hash-password.ts
 */
import { hashPassword } from '../src/console/users';

/** One line typed at a terminal, not echoed. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    let typed = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(null);
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the shell's (echo), not the password's.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const password = process.stdin.isTTY ? await promptHidden('Password: ') : await readPiped();
  if (!password) throw new Error('no password given on standard input');
  if (password.length < 12) process.stderr.write('warning: a password shorter than 12 characters is easy to guess\n');
  process.stdout.write(`${await hashPassword(password)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hash-password: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
