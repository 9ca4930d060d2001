import { InputError } from '../domain/errors';
import { parseNewDevice, type Device, type NewDevice } from '../domain/device';
import type { DeclaredModels } from '../domain/models';
import { parseMac, type Mac } from '../domain/mac';
import { settle } from '../domain/auth';
import { timeSlices } from '../lib/pacing';

/** Optional import columns: one SIP account for the full configuration, and the prompt language. */
export const IMPORT_OPTIONAL = [
  'language',
  'sip_server',
  'sip_user',
  'sip_auth_user',
  'sip_password',
  'display_name',
] as const;
/**
 * Columns of the export, in order; the import reads them by header name. The account columns hold
 * a device's first account (the CSV's one), sip_password only in an export asked with passwords.
 */
export const EXPORT_COLUMNS = [
  'vendor',
  'type',
  'mac',
  'created',
  'site',
  'state',
  'pap',
  ...IMPORT_OPTIONAL,
] as const;
const IMPORT_REQUIRED = ['vendor', 'type', 'mac', 'site'] as const;
const IMPORT_IGNORED = ['created', 'state', 'pap'] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP's
 * advice); the import strips it again, so a round trip is lossless.
 */
function csvCell(value: string): string {
  const v = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function unescapeFormula(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

export function devicesToCsv(devices: readonly Device[], now: number, opts: { passwords: boolean }): string {
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const d of devices) {
    const state = settle(d, now).state;
    const a = d.accounts[0];
    const row = [
      d.vendor,
      d.model,
      d.mac,
      new Date(d.createdAt).toISOString(),
      d.site,
      state,
      state === 'successful' ? '' : d.pap,
      d.language ?? '',
      a?.server ?? '',
      a?.user ?? '',
      a?.authUser ?? '',
      opts.passwords ? (a?.password ?? '') : '',
      a?.displayName ?? '',
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Bounds of an import, whatever its size: a longer cell or a record of more cells stops the parse
 * at once with one error. No import column needs more (the longest, site and account fields, are
 * refused beyond 128 characters anyway; the import knows 13 columns).
 */
const CSV_MAX_CELL = 256;
const CSV_MAX_CELLS = 32;
/** Characters parsed between two looks at the clock (see timeSlices). */
const CHARS_PER_LOOK = 4096;

/**
 * RFC 4180 records with the file line each starts on, at most `maxRecords` (the rest is not read);
 * throws InputError on broken quoting, a cell over CSV_MAX_CELL characters or a record of more than
 * CSV_MAX_CELLS cells.
 */
async function parseCsv(text: string, maxRecords: number): Promise<{ line: number; cells: string[] }[]> {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let atCellStart = true;
  /** Just past a quoted cell's closing quote: only a separator or a line end may follow. */
  let afterQuote = false;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const slice = timeSlices();
  const endCell = () => {
    if (cells.length === CSV_MAX_CELLS)
      throw new InputError(`line ${recordLine}: more than ${CSV_MAX_CELLS} cells in a row`);
    cells.push(cell);
    cell = '';
    atCellStart = true;
  };
  const add = (c: string) => {
    if (cell.length === CSV_MAX_CELL)
      throw new InputError(`line ${recordLine}: a cell longer than ${CSV_MAX_CELL} characters`);
    cell += c;
  };
  for (let i = 0; i < src.length && records.length < maxRecords; i++) {
    if (i % CHARS_PER_LOOK === 0) await slice();
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          add('"');
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (c === '\n') line++;
        add(c);
      }
      continue;
    }
    if (afterQuote && c !== ',' && c !== '\n' && c !== '\r')
      throw new InputError(`line ${line}: text after the closing quote of a cell`);
    afterQuote = false;
    if (c === '"') {
      if (!atCellStart) throw new InputError(`line ${line}: quote inside an unquoted cell`);
      quoted = true;
      atCellStart = false;
    } else if (c === ',') {
      endCell();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endCell();
      if (cells.length > 1 || cells[0] !== '') records.push({ line: recordLine, cells });
      cells = [];
      line++;
      recordLine = line;
    } else {
      add(c);
      atCellStart = false;
    }
  }
  if (records.length === maxRecords) return records;
  if (quoted) throw new InputError(`line ${recordLine}: unterminated quoted cell`);
  endCell();
  if (cells.length > 1 || cells[0] !== '') records.push({ line: recordLine, cells });
  return records;
}

export interface CsvRowError {
  readonly line: number;
  readonly mac?: string;
  /** The column at fault, where one is. */
  readonly column?: string;
  /** The row's site, which has no record: `?unknownSite=accept` takes the row (the console offers it). */
  readonly unknownSite?: string;
  readonly reason: string;
}

/** One row as read: its cells by column, the MAC parsed. */
export interface CsvRow {
  readonly line: number;
  readonly mac: Mac;
  readonly vendor: string;
  readonly model: string;
  readonly site: string;
  /** '' for an empty cell; undefined without the column. */
  readonly language: string | undefined;
  /** The row's account; undefined when its account cells are all empty or absent. */
  readonly account:
    { server: string; user: string; password: string; authUser?: string; displayName?: string } | undefined;
}

/** The rows of a file (those whose MAC is good and not repeated), and every error of the others. */
interface CsvRows {
  readonly rows: CsvRow[];
  readonly errors: CsvRowError[];
}

/** The CSV column of a field parseNewDevice names (`accounts[0].password`: sip_password). */
const COLUMN_OF: Record<string, string> = {
  model: 'type',
  server: 'sip_server',
  user: 'sip_user',
  authUser: 'sip_auth_user',
  password: 'sip_password',
  displayName: 'display_name',
};
function columnOf(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const f = /^accounts\[0\]\.(\w+)$/.exec(field)?.[1] ?? field;
  return COLUMN_OF[f] ?? f;
}

/** A row's error, beside its column where the error names a field. */
export function rowError(line: number, mac: string | undefined, e: unknown): CsvRowError {
  const column = columnOf(e instanceof InputError ? e.field : undefined);
  return {
    line,
    ...(mac ? { mac } : {}),
    ...(column ? { column } : {}),
    reason: (e as Error).message,
  };
}

/** A row as a device to add (parseNewDevice). */
export function rowAsNew(r: CsvRow, declared: DeclaredModels): NewDevice {
  return parseNewDevice(
    {
      mac: r.mac,
      vendor: r.vendor,
      model: r.model,
      site: r.site,
      language: r.language || undefined,
      ...(r.account ? { accounts: [r.account] } : {}),
    },
    declared,
  );
}

/**
 * A row as the edit of `current` (applyDeviceEdit's body): its account replaces the first, the
 * others stay, and an empty sip_password keeps the password (an export without passwords
 * round-trips); no account cells, or no language column, keep what the device has.
 */
export function rowAsEdit(r: CsvRow, current: NewDevice): Record<string, unknown> {
  if (r.vendor !== current.vendor)
    throw new InputError(
      `vendor cannot be changed (the device is ${current.vendor}): delete the device and add it again`,
      'vendor',
    );
  const { password, ...account } = r.account ?? { password: '' };
  return {
    model: r.model,
    site: r.site,
    ...(r.language === undefined ? {} : { language: r.language || null }),
    ...(r.account
      ? { accounts: [{ ...account, ...(password ? { password } : {}) }, ...current.accounts.slice(1)] }
      : {}),
  };
}

const fail = (errors: CsvRowError[]): CsvRows => ({ rows: [], errors });

/**
 * Reads the whole file; every bad row is reported, not only the first (the API lists the first of
 * them, see MAX_LISTED_ROWS): the header, the cells of each row and its MAC. What the row's other
 * cells must be depends on whether it adds or updates a device (rowAsNew, rowAsEdit). Yields to
 * the event loop between chunks of rows.
 */
export async function csvToRows(text: string, maxRows: number): Promise<CsvRows> {
  let records;
  try {
    records = await parseCsv(text, maxRows + 2);
  } catch (e) {
    return fail([{ line: 0, reason: (e as Error).message }]);
  }
  const header = records.shift();
  if (!header) return fail([{ line: 1, reason: 'empty file: a header line is required' }]);
  const names = header.cells.map((h) => h.trim().toLowerCase());
  const known = new Set<string>([...IMPORT_REQUIRED, ...IMPORT_OPTIONAL, ...IMPORT_IGNORED]);
  const headerErrors: CsvRowError[] = [];
  for (const col of IMPORT_REQUIRED) {
    if (!names.includes(col)) headerErrors.push({ line: 1, reason: `missing column "${col}"` });
  }
  names.forEach((n, i) => {
    if (!known.has(n)) headerErrors.push({ line: 1, reason: `unknown column "${header.cells[i]}"` });
    else if (names.indexOf(n) !== i) headerErrors.push({ line: 1, reason: `duplicate column "${n}"` });
  });
  if (headerErrors.length) return fail(headerErrors);
  if (records.length === 0) return fail([{ line: 2, reason: 'no device rows' }]);
  if (records.length > maxRows) return fail([{ line: 0, reason: `more than ${maxRows} rows in one import` }]);

  const errors: CsvRowError[] = [];
  const rows: CsvRow[] = [];
  const firstLine = new Map<string, number>();
  const slice = timeSlices();
  for (const r of records) {
    await slice();
    if (r.cells.length !== names.length) {
      errors.push({ line: r.line, reason: `expected ${names.length} cells, found ${r.cells.length}` });
      continue;
    }
    const get = (n: string) => {
      const i = names.indexOf(n);
      return i === -1 ? '' : unescapeFormula(r.cells[i]!.trim());
    };
    let mac: Mac;
    try {
      mac = parseMac(get('mac'));
    } catch (e) {
      errors.push(rowError(r.line, get('mac'), e));
      continue;
    }
    const seen = firstLine.get(mac);
    if (seen !== undefined) {
      errors.push({ line: r.line, mac, column: 'mac', reason: `duplicate MAC (also on line ${seen})` });
      continue;
    }
    firstLine.set(mac, r.line);
    const hasAccount = get('sip_server') || get('sip_user') || get('sip_password');
    rows.push({
      line: r.line,
      mac,
      vendor: get('vendor').toLowerCase(),
      model: get('type'),
      site: get('site'),
      language: names.includes('language') ? get('language') : undefined,
      account: hasAccount
        ? {
            server: get('sip_server'),
            user: get('sip_user'),
            password: get('sip_password'),
            ...(get('sip_auth_user') ? { authUser: get('sip_auth_user') } : {}),
            ...(get('display_name') ? { displayName: get('display_name') } : {}),
          }
        : undefined,
    });
  }
  return { rows, errors };
}
