/**
 * nsq_to_file's output file names (upstream `apps/nsq_to_file/file_logger.go`
 * computeFilenameFormat/currentFilename): the per-topic template is fixed once, then `<DATETIME>`
 * and `<REV>` are filled in for each file.
 */
import { strftime } from './strftime.js';

/** What shapes a topic's file-name template. */
export interface FilenameOptions {
  filenameFormat: string;
  hostIdentifier: string;
  gzip: boolean;
  rotateSize: number;
  rotateInterval: number;
  workDir: string;
  outputDir: string;
}

/** The template lacks `<REV>` although files may be rotated or moved. */
export class FilenameFormatError extends Error {
  override readonly name = 'FilenameFormatError';
}

/** True when several files may share a name and so need a revision number. */
export function needsRevision(o: FilenameOptions): boolean {
  return o.gzip || o.rotateSize > 0 || o.rotateInterval > 0 || o.workDir !== o.outputDir;
}

/**
 * Substitutes `<TOPIC>`, `<HOST>` and `<PID>` (leaving `<DATETIME>` and `<REV>`), drops `<REV>`
 * when no revisions are needed, and appends `.gz` for gzip output.
 */
export function computeFilenameFormat(o: FilenameOptions, topic: string, hostname: string, pid: number): string {
  const dot = hostname.indexOf('.');
  const shortHost = dot < 0 ? hostname : hostname.slice(0, dot);
  let identifier = shortHost;
  if (o.hostIdentifier !== '') {
    identifier = o.hostIdentifier.replaceAll('<SHORT_HOST>', shortHost).replaceAll('<HOSTNAME>', hostname);
  }
  let cff = o.filenameFormat;
  if (needsRevision(o)) {
    if (!cff.includes('<REV>')) {
      throw new FilenameFormatError('missing <REV> in --filename-format when gzip, rotation, or work dir enabled');
    }
  } else {
    cff = cff.replaceAll('<REV>', '');
  }
  cff = cff.replaceAll('<TOPIC>', topic).replaceAll('<HOST>', identifier).replaceAll('<PID>', String(pid));
  if (o.gzip && !cff.endsWith('.gz')) cff += '.gz';
  return cff;
}

/** The template with `<DATETIME>` rendered for `now` (still holding `<REV>` if any). */
export function currentFilename(template: string, datetimeFormat: string, now: Date): string {
  return template.replaceAll('<DATETIME>', strftime(datetimeFormat, now));
}

/** Fills `<REV>` with `-NNNNNN`. */
export function withRevision(name: string, rev: number): string {
  return name.replaceAll('<REV>', '-' + String(rev).padStart(6, '0'));
}
