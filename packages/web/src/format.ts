import type { MessageBatch, MessageBatchRequestCounts } from '@batchd/sdk';

const integer = new Intl.NumberFormat('en-US');
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const dateTimeParts: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' };
const dateTime = new Intl.DateTimeFormat('en-GB', dateTimeParts);
const dateTimeWithYear = new Intl.DateTimeFormat('en-GB', { ...dateTimeParts, year: 'numeric' });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** A moment in local time; the year is shown only when it is not the current one. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return (date.getFullYear() === new Date().getFullYear() ? dateTime : dateTimeWithYear).format(date);
}

/** A duration as its two largest units, rounded down: `2d 4h`, `3h 12m`, `4m 05s`, `12s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}

/** `in 3h 12m` or `5m 01s ago`, relative to `now`. */
export function formatRelative(iso: string, now: number): string {
  const delta = Date.parse(iso) - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** Requests per second, with one decimal below 100. */
export function formatRate(perSecond: number): string {
  return `${perSecond >= 100 ? formatCount(Math.round(perSecond)) : decimal.format(perSecond)}/s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${decimal.format(bytes / 1024)} KB`;
  return `${decimal.format(bytes / (1024 * 1024))} MB`;
}

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 3 });

/** US dollars: to the cent from a dollar up, to three significant digits below. */
export function formatUsd(usd: number): string {
  return (Math.abs(usd) >= 1 ? dollars : cents).format(usd);
}

export function formatPercent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${decimal.format((100 * part) / whole)}%`;
}

export function totalRequests(counts: MessageBatchRequestCounts): number {
  return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired;
}

/** Requests that have a result. */
export function doneRequests(counts: MessageBatchRequestCounts): number {
  return totalRequests(counts) - counts.processing;
}

/** Results per second from creation until the batch ended (or until now). Null before the first result. */
export function averageThroughput(batch: MessageBatch, now: number): number | null {
  const done = doneRequests(batch.request_counts);
  const end = batch.ended_at ? Date.parse(batch.ended_at) : now;
  const seconds = (end - Date.parse(batch.created_at)) / 1000;
  if (done === 0 || seconds <= 0) return null;
  return done / seconds;
}

/** Time left before the batch expires, or a dash once it has ended. */
export function timeLeft(batch: MessageBatch, now: number): string {
  if (batch.processing_status === 'ended') return '—';
  const left = Date.parse(batch.expires_at) - now;
  return left > 0 ? formatDuration(left) : 'expiring';
}

/** Seconds since the epoch (as the OpenAI API gives times) as the ISO text the formatters take. */
export const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();
