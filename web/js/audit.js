// The audit log's records (docs/audit.md) as the rollout page shows them beside each event: the
// record an event was signed into, who signed it, and what the signed statement binds (its
// subjects' digests). Decoding only — `ramp audit verify` checks signatures and the tree; the
// page never claims a record is valid, only that it is there and signed. Pure.

// Roles that may read the audit log (docs/api.md: auditor and above).
export function canAudit(role) {
  return role === 'auditor' || role === 'operator' || role === 'admin';
}

function decodeBase64Utf8(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

// One item of GET /api/v1/audit/records as {index, eventId, signed, keyIds, action, actor,
// actorKind, origin, environment, change, previousImages, subjects: [{name, digest}], leafHash};
// a record whose envelope or statement cannot be read keeps {index, eventId, error} (shown, never
// hidden: it is itself evidence).
export function decodeAuditRecord(item) {
  const base = { index: item.index, eventId: item.eventId, leafHash: item.leafHash || '' };
  try {
    const envelope = JSON.parse(item.envelope);
    const statement = JSON.parse(decodeBase64Utf8(envelope.payload));
    const p = statement.predicate || {};
    const signatures = Array.isArray(envelope.signatures) ? envelope.signatures : [];
    return {
      ...base,
      signed: signatures.length > 0,
      keyIds: signatures.map((s) => s.keyid || '').filter(Boolean),
      action: p.action || '',
      actor: (p.actor && p.actor.id) || '',
      actorKind: (p.actor && p.actor.kind) || '',
      origin: (p.actor && p.actor.origin) || '',
      environment: p.environment || '',
      change: p.change && typeof p.change === 'object' ? p.change : null,
      previousImages: (p.previous && Array.isArray(p.previous.images)) ? p.previous.images : [],
      subjects: (statement.subject || []).map((s) => ({
        name: s.name || '',
        digest: s.digest && s.digest.sha256 ? `sha256:${s.digest.sha256}` : '',
      })),
    };
  } catch (err) {
    return { ...base, error: `record ${item.index} cannot be read: ${err.message}` };
  }
}

// Adds the decoded `items` to `byEvent` (a Map eventId -> record); returns the highest index seen
// (or `from` - 1 when there were none), so the next read can start after it.
export function addAuditRecords(byEvent, items, from = 0) {
  let last = from - 1;
  for (const item of items || []) {
    byEvent.set(item.eventId, decodeAuditRecord(item));
    last = Math.max(last, item.index);
  }
  return last;
}

// The record's facts as label/value rows for the event's "Audit record" details.
export function auditFields(record) {
  if (record.error) return [{ label: 'record', value: record.error }];
  const rows = [
    { label: 'record', value: `#${record.index}` },
    { label: 'signed by', value: record.signed ? record.keyIds.map((k) => k.slice(0, 16)).join(', ') || 'a key without id' : 'nobody (the daemon ran without a key)' },
    { label: 'action', value: record.action },
    { label: 'actor', value: actorText(record) },
  ];
  if (record.environment) rows.push({ label: 'environment', value: record.environment });
  if (record.change) rows.push({ label: 'change', value: changeText(record.change) });
  if (record.previousImages && record.previousImages.length) {
    rows.push({ label: 'replaced', value: record.previousImages.join(', ') });
  }
  for (const s of record.subjects) rows.push({ label: 'subject', value: `${s.name} ${s.digest}`.trim() });
  if (record.leafHash) rows.push({ label: 'leaf hash', value: record.leafHash });
  return rows;
}

function actorText(record) {
  const about = [record.actorKind, record.origin && record.origin !== record.actorKind ? `via ${record.origin}` : '']
    .filter(Boolean).join(', ');
  return about ? `${record.actor} (${about})` : record.actor;
}

// "REPO@SHA7 PATH, pull request 42 approved by A, B" from a record's change (docs/audit.md).
function changeText(c) {
  let text = `${c.repo || ''}@${(c.revision || '').slice(0, 7)}`;
  if (c.path) text += ` ${c.path}`;
  if (c.pullRequest) text += `, pull request ${c.pullRequest}`;
  if (Array.isArray(c.approvers) && c.approvers.length) text += ` approved by ${c.approvers.join(', ')}`;
  if (c.author) text += `; author ${c.author}`;
  return text;
}
