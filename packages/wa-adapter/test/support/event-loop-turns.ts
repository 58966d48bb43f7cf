/**
 * Counts the turns the event loop takes while work is under way: `stop()` ends the count and
 * returns it. Work done on the main thread in one go leaves it at one or two; work handed to
 * another thread lets the loop keep turning meanwhile.
 */
export function countEventLoopTurns(): { stop: () => number } {
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      ticking = false;
      return turns;
    },
  };
}
