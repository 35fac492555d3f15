// Purchase attempts: one idempotency key per attempt, one click at a time.
// One idempotency key per purchase attempt. A retry of the same purchase
// after an answer that says "retry with the same key" (or after no answer
// at all) sends the same key, so it is never charged twice; any other
// answer, or a changed purchase, starts a new attempt with a new key.
const RETRY_CODES = new Set(["PAYMENT_PENDING", "PAYMENT_UNAVAILABLE", "CHECKOUT_IN_PROGRESS"]);
export function purchaseAttempts() {
  let last = null; // { input, key, retry }
  return {
    key(input) {
      const s = JSON.stringify(input);
      if (!last || last.input !== s || !last.retry) last = { input: s, key: crypto.randomUUID(), retry: true };
      return last.key;
    },
    // settle records whether the answer asks for a retry with the same key.
    settle(userErrors) { if (last) last.retry = userErrors.some((e) => RETRY_CODES.has(e.code)); },
  };
}

// once runs an async click handler one click at a time: a double tap buys once.
export function once(fn) {
  let running = false;
  return async (ev) => {
    if (running) return;
    running = true;
    const button = ev && ev.currentTarget;
    if (button) button.disabled = true;
    try { await fn(ev); } finally { running = false; if (button) button.disabled = false; }
  };
}

