// What ties an opportunity to the others of its scan: the legs of a multi-leg idea,
// the other rows of that idea (one group_id), and the rows it conflicts with (the
// opposite side on one of its symbols). Links move the focus to the row they name.

const PRICE_DIGITS = 7;

function formatPrice(value) {
  return Number(value).toLocaleString("en-US", { maximumSignificantDigits: PRICE_DIGITS });
}

// Row numbers (1-based, as shown) of each opportunity_id and of each group's rows.
export function indexRows(rows) {
  const rowOf = new Map();
  const groups = new Map();
  rows.forEach((opportunity, index) => {
    rowOf.set(opportunity.opportunity_id, index + 1);
    if (opportunity.group_id) {
      if (!groups.has(opportunity.group_id)) groups.set(opportunity.group_id, []);
      groups.get(opportunity.group_id).push(index + 1);
    }
  });
  return { rowOf, groups };
}

export function rowId(number) {
  return `opportunity-${number}`;
}

function rowLink(number, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "row-link";
  button.dataset.row = String(number);
  button.textContent = text;
  button.addEventListener("click", () => {
    const row = document.getElementById(rowId(number));
    if (!row) return;
    row.scrollIntoView({ block: "center" });
    (row.querySelector("button") || row).focus();
  });
  return button;
}

// A ratio to three significant digits: 0.1, 0.833, 1.
const RATIO_DIGITS = 3;

// The legs, folded: a grid's ten orders would otherwise fill the row.
function legsList(legs) {
  const details = document.createElement("details");
  details.className = "legs-box";
  const summary = document.createElement("summary");
  const symbols = [...new Set(legs.map((leg) => leg.symbol))].join(" + ");
  summary.textContent = `${legs.length} leg${legs.length === 1 ? "" : "s"}: ${symbols}`;
  const list = document.createElement("ul");
  list.className = "legs";
  for (const leg of legs) {
    const item = document.createElement("li");
    item.dataset.side = leg.side;
    const verb = leg.side === "short" ? "sell" : "buy";
    item.textContent =
      `${verb} ${leg.symbol} ×${Number(leg.ratio.toPrecision(RATIO_DIGITS))} at ` +
      `${formatPrice(leg.price)} (${leg.order_type})`;
    list.append(item);
  }
  details.append(summary, list);
  return details;
}

// The notes under a row's rationale; null when the idea stands alone.
export function ideaNotes(opportunity, number, { rowOf, groups }) {
  const notes = document.createElement("div");
  notes.className = "idea-notes";
  const legs = opportunity.legs || [];
  if (legs.length) notes.append(legsList(legs));
  const group = (groups.get(opportunity.group_id) || []).filter((n) => n !== number);
  if (group.length) {
    const line = document.createElement("p");
    line.className = "idea-group";
    line.append("Same idea as ", ...group.flatMap((n, i) => [i ? ", " : "", rowLink(n, `#${n}`)]));
    notes.append(line);
  }
  const against = (opportunity.conflicts || []).map((id) => rowOf.get(id)).filter(Boolean);
  if (against.length) {
    const line = document.createElement("p");
    line.className = "idea-conflict";
    line.append(
      "⚠ Conflicts with ",
      ...against.flatMap((n, i) => [i ? ", " : "", rowLink(n, `#${n}`)]),
      " (the opposite side on the same symbol)",
    );
    notes.append(line);
  }
  return notes.childElementCount ? notes : null;
}
