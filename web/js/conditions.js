// Thresholds from an AnalysisTemplate metric's successCondition / failureCondition, for drawing
// them on a chart of the measurements. Only the simple shapes real templates use are read:
// clauses joined by && of the form `result[0] >= 0.95` (also `result`, `asFloat(result)`,
// `result[0]` on either side, and `len(result) > 0` guards, which are skipped). Anything else
// (||, !, function calls, other fields) is reported as unreadable, never guessed.

const OPS = new Set(['>=', '>', '<=', '<', '==']);
const FLIP = { '>=': '<=', '>': '<', '<=': '>=', '<': '>', '==': '==' };
const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const RESULT = String.raw`(?:asFloat\(\s*)?result(?:\s*\[\s*0\s*\])?(?:\s*\))?`;
const LEFT = new RegExp(String.raw`^${RESULT}\s*(>=|<=|==|>|<)\s*(${NUMBER})$`);
const RIGHT = new RegExp(String.raw`^(${NUMBER})\s*(>=|<=|==|>|<)\s*${RESULT}$`);
const GUARD = /^len\(\s*result\s*\)\s*(?:>\s*0|>=\s*1|!=\s*0)$/;

function stripParens(s) {
  let t = s.trim();
  while (t.startsWith('(') && t.endsWith(')')) {
    // Only when the outer parentheses enclose the whole clause.
    let depth = 0;
    let whole = true;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '(') depth++;
      else if (t[i] === ')') depth--;
      if (depth === 0 && i < t.length - 1) {
        whole = false;
        break;
      }
    }
    if (!whole) break;
    t = t.slice(1, -1).trim();
  }
  return t;
}

// Returns {thresholds: [{op, value}], error: ""}: every comparison of the result with a number
// the condition makes; or {thresholds: [], error: "why not"} when the condition is not of a
// readable shape. An empty condition gives no thresholds and no error.
export function parseCondition(condition) {
  if (!condition || !condition.trim()) return { thresholds: [], error: '' };
  if (/\|\||!(?!=)|\?/.test(condition)) {
    return { thresholds: [], error: `cannot chart "${condition}": only conditions joined by && are read` };
  }
  const thresholds = [];
  for (const raw of condition.split('&&')) {
    const clause = stripParens(raw);
    if (GUARD.test(clause)) continue;
    let m = LEFT.exec(clause);
    if (m && OPS.has(m[1])) {
      thresholds.push({ op: m[1], value: Number(m[2]) });
      continue;
    }
    m = RIGHT.exec(clause);
    if (m && OPS.has(m[2])) {
      thresholds.push({ op: FLIP[m[2]], value: Number(m[1]) });
      continue;
    }
    return { thresholds: [], error: `cannot chart "${clause}" (in "${condition}"): not of the form result[0] >= NUMBER` };
  }
  return { thresholds, error: '' };
}

// Whether `value` satisfies every threshold (for a legend or a test); null without thresholds.
export function satisfies(value, thresholds) {
  if (!thresholds.length || value === null || value === undefined) return null;
  return thresholds.every(({ op, value: t }) => {
    switch (op) {
      case '>=': return value >= t;
      case '>': return value > t;
      case '<=': return value <= t;
      case '<': return value < t;
      default: return value === t;
    }
  });
}

// Fills `{{args.NAME}}` in a metric's condition from the AnalysisRun's spec.args (as Argo, the
// run keeps its metrics as templated and the resolved values in args). Unknown names stay.
export function substituteArgs(text, args) {
  if (!text) return text;
  const values = new Map();
  for (const a of args || []) if (a && typeof a.value === 'string') values.set(a.name, a.value);
  return text.replace(/\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g, (all, name) =>
    values.has(name) ? values.get(name) : all);
}
