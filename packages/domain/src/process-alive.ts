/**
 * Whether a process with this id exists on this machine (signal 0 checks without sending one).
 * EPERM means it exists but belongs to another user: still alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
