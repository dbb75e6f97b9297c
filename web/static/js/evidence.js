// Evidence at a glance in a results row: the probability with the 95 % interval
// of the hit rate it rests on, and the strategy's track record (walk-forward
// trades on this symbol, else on every symbol, and their hit rate) as numbers and
// a small bar. The bar repeats the numbers for the eye; the text says it all.

const PERCENT = 100;
const MISSING = "—";

function pct(value) {
  return `${(value * PERCENT).toFixed(0)} %`;
}

// The evidence a row rests on: this symbol's when it has trades, else the strategy's.
export function evidenceOf(opportunity) {
  const own = opportunity.evidence;
  if (own && own.trades) return { evidence: own, scope: "on this symbol" };
  const all = opportunity.evidence_all;
  if (all && all.trades) return { evidence: all, scope: "on every symbol" };
  return null;
}

function small(text, className) {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

// A track of 0-100 %: the interval shaded, the rate a mark. Decorative (aria-hidden).
function rateBar(rate, low, high) {
  const bar = document.createElement("span");
  bar.className = "rate-bar";
  bar.setAttribute("aria-hidden", "true");
  const band = document.createElement("span");
  band.className = "rate-band";
  band.style.left = `${low * PERCENT}%`;
  band.style.width = `${(high - low) * PERCENT}%`;
  const mark = document.createElement("span");
  mark.className = "rate-mark";
  mark.style.left = `${rate * PERCENT}%`;
  bar.append(band, mark);
  return bar;
}

export function probabilityCell(opportunity) {
  if (opportunity.probability == null) return MISSING;
  const box = document.createElement("span");
  box.className = "evidence-cell";
  box.append(small(`${(opportunity.probability * PERCENT).toFixed(2)} %`, "evidence-value"));
  const found = evidenceOf(opportunity);
  if (found) {
    const { evidence } = found;
    box.append(
      small(`95 %: ${pct(evidence.hit_rate_low)}–${pct(evidence.hit_rate_high)}`, "evidence-interval"),
    );
    box.title =
      `Calibrated chance of the target before the stop. The past hit rate ${found.scope} ` +
      `was ${pct(evidence.hit_rate)} over ${evidence.trades} trades (95 % interval ` +
      `${pct(evidence.hit_rate_low)}–${pct(evidence.hit_rate_high)}).`;
  }
  return box;
}

export function recordCell(opportunity) {
  const found = evidenceOf(opportunity);
  if (!found) return MISSING;
  const { evidence, scope } = found;
  const box = document.createElement("span");
  box.className = "evidence-cell record";
  box.dataset.trades = String(evidence.trades);
  box.dataset.hitRate = String(evidence.hit_rate);
  box.append(
    small(`${evidence.trades} trades · ${pct(evidence.hit_rate)}`, "evidence-value"),
    rateBar(evidence.hit_rate, evidence.hit_rate_low, evidence.hit_rate_high),
  );
  const expectancy = evidence.expectancy_pct_net;
  box.title =
    `Walk-forward ${scope}: ${evidence.trades} trades, hit rate ${pct(evidence.hit_rate)} ` +
    `(95 % ${pct(evidence.hit_rate_low)}–${pct(evidence.hit_rate_high)})` +
    (expectancy == null ? "" : `, ${expectancy.toFixed(2)} % a trade net of costs`);
  return box;
}
