// The evidence an event carries (docs/api.md, Events: the JSON behind each decision) as words: a
// one-line summary of the deciding measurement, and every field with a readable label. Pure.

const LABELS = {
  analysisRun: 'AnalysisRun',
  metric: 'metric',
  measuredValue: 'measured value',
  value: 'measured value',
  phase: 'phase',
  successCondition: 'success condition',
  failureCondition: 'failure condition',
  failed: 'failed measurements',
  errors: 'errored measurements',
  inconclusive: 'inconclusive measurements',
  metricMessage: 'metric message',
  measurementMessage: 'measurement message',
  message: 'message',
  rolloutType: 'analysis',
  revision: 'revision',
  stepIndex: 'step index',
  podTemplateHash: 'pod template hash',
  weight: 'weight',
  desiredWeight: 'weight',
  // The signature gate's verdicts (docs/supply-chain.md).
  image: 'image',
  pinnedImage: 'runs as',
  digest: 'verified digest',
  policy: 'ClusterImagePolicy',
  authority: 'authority',
  allowed: 'allowed',
};

// Evidence as an object of strings ({} when there is none or it is not an object).
export function evidenceFields(evidence) {
  if (!evidence || typeof evidence !== 'object' || Array.isArray(evidence)) {
    return evidence === undefined || evidence === null || evidence === '' ? [] : [{ key: 'evidence', label: 'evidence', value: String(typeof evidence === 'string' ? evidence : JSON.stringify(evidence)) }];
  }
  return Object.entries(evidence)
    .filter(([, v]) => v !== '' && v !== null && v !== undefined)
    .map(([key, v]) => ({ key, label: LABELS[key] || key, value: typeof v === 'string' ? v : JSON.stringify(v) }));
}

// "success-rate measured [0.8812]; success needs len(result) > 0 && result[0] >= 0.95" — the
// measurement a decision rests on, or "" when the evidence names none.
export function evidenceSummary(evidence) {
  if (!evidence || typeof evidence !== 'object') return '';
  const value = evidence.measuredValue !== undefined ? evidence.measuredValue : evidence.value;
  if (value === undefined || value === '') return '';
  const parts = [`${evidence.metric || 'the metric'} measured ${value}`];
  if (evidence.phase) parts[0] += ` (${evidence.phase})`;
  if (evidence.failureCondition) parts.push(`fails when ${evidence.failureCondition}`);
  if (evidence.successCondition) parts.push(`success needs ${evidence.successCondition}`);
  return parts.join('; ');
}
