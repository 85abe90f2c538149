import { closeSync, constants, openSync, statSync } from 'node:fs';

/** True when `path` names a FIFO (named pipe); false for anything else, missing files included. */
export function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/**
 * Opening a FIFO blocks until its other end is opened too, and it blocks one of libuv's thread
 * pool threads: a process with such an open pending cannot even exit. Opening the other end here,
 * without blocking, lets the pending open return (and at once see the end of the stream), so a
 * source closed before its FIFO had a peer can still shut down. `pending` is the mode of the open
 * that waits.
 */
export function releasePendingFifoOpen(path: string, pending: 'read' | 'write'): void {
  if (!isFifo(path)) return;
  try {
    // A non-blocking read open always succeeds; a non-blocking write open succeeds while a reader waits.
    const fd = openSync(path, (pending === 'read' ? constants.O_WRONLY : constants.O_RDONLY) | constants.O_NONBLOCK);
    closeSync(fd);
  } catch {
    // Nobody waits on the other side after all: nothing to release.
  }
}
