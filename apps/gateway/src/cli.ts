// `gateway <command>`: the command line is checked first, with nothing but its parser loaded, so
// a mistake is answered at once; Nest, TypeORM and the configuration load only for a valid command.
import { parseCommand, UsageError, USAGE, type Command } from './cli-args';

async function main(argv: string[]): Promise<number> {
  let command: Command | 'help';
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gateway: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { runCommand } = await import('./cli-run.js');
  return runCommand(command);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gateway: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
