// Shared by the chapters' k6 scripts: a measured scenario in the open model. A constant arrival rate starts
// iterations on schedule whatever the server does, so a slow server shows up as dropped_iterations (the rate was not
// carried) instead of hiding behind fewer requests. VUs are pre-allocated for 100 ms per iteration (rate / 10) and may
// grow to 200 ms (rate / 5). Why so many up front: when every VU is busy k6 drops the iteration that found none and only
// then starts a new VU, so a pool sized for 20 ms dropped iterations at 500/s whenever answers took 25-65 ms, under a
// 50 ms p99 target (chapter 20, MQ-T3). Now (below 10,000/s) an iteration is dropped only when over rate x 100 ms of requests are
// in flight: a stall of the server, not of k6's pool.
export function rateScenario(exec, rate, startTime, duration) {
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate,
    timeUnit: '1s',
    duration,
    startTime,
    ...vuPool(rate),
  };
}

/** The most VUs set up before a run: each costs k6 memory and start-up time (29's 43,000 orders/s would want 4,300). */
const MAX_PREALLOCATED = 1000;

/** VUs for an arrival rate: rate x 100 ms pre-allocated (at most MAX_PREALLOCATED), up to rate x 200 ms. */
export function vuPool(rate) {
  const maxVUs = Math.max(50, Math.ceil(rate / 5));
  const preAllocatedVUs = Math.min(maxVUs, MAX_PREALLOCATED, Math.max(10, Math.ceil(rate / 10)));
  return { preAllocatedVUs, maxVUs };
}

// The warm-up before the measured window: the arrival rate ramps from 1/s to the measured rate, so JIT, pools and
// caches are warm when measuring starts and the first measured seconds are not a cold start.
export function warmupScenario(exec, rate, duration) {
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: 1,
    timeUnit: '1s',
    ...vuPool(rate),
    stages: [{ target: rate, duration }],
  };
}

// One step of the harness's capacity search of a chapter (CAPACITY=<scenario>, with RATE, WARMUP and DURATION): that
// scenario alone at RATE iterations/s after a ramp, in place of the profile's scenarios, with the script's own body
// checks (harness/load/flow-step.ts reads it). Returns null when CAPACITY is not set.
export function capacityScenarios(env) {
  const name = env.CAPACITY;
  if (!name) return null;
  const rate = Number(env.RATE);
  if (!(rate > 0)) throw new Error(`CAPACITY=${name} needs RATE, iterations per second`);
  const warmup = env.WARMUP || '3s';
  return {
    [`warmup_${name}`]: warmupScenario(name, rate, warmup),
    [name]: rateScenario(name, rate, warmup, env.DURATION || '8s'),
  };
}
