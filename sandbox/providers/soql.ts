/**
 * A SOQL subset, enough for what connectors send to Salesforce: `SELECT` fields (relationship
 * paths such as `Owner.Email` included) `FROM` one object, `WHERE` with `=`, `!=`/`<>`, `LIKE`,
 * `[NOT] IN (...)`, `NOT`, `AND`/`OR` and parentheses, `ORDER BY` fields, `LIMIT n`.
 *
 * It is as strict as Salesforce where that catches connector bugs: field and object names are
 * checked against the describe (case-insensitively, answered in their canonical spelling), AND and
 * OR cannot be mixed at one level without parentheses, string escapes are validated, and errors
 * point at the offending row and column the way Salesforce's messages do.
 */

export type SoqlErrorCode = 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE';

export class SoqlError extends Error {
  constructor(
    readonly errorCode: SoqlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SoqlError';
  }
}

/** An object's describe: its field names and relationship names (relationship → object name). */
export interface SObjectType {
  name: string;
  fields: readonly string[];
  relationships: Readonly<Record<string, string>>;
}

/** A record by canonical field names; a relationship name holds the related row or null. */
export type SObjectRow = Record<string, unknown>;

export interface SoqlSource {
  types: readonly SObjectType[];
  rows(object: string): SObjectRow[];
  /** The `attributes` a record carries in answers (`{ type, url }`). */
  attributes(object: string, row: SObjectRow): unknown;
}

type Literal = string | number | boolean | null;

interface Token {
  kind: 'word' | 'string' | 'number' | 'symbol' | 'end';
  text: string;
  value: Literal;
  /** For strings: the LIKE pattern as a regular expression source (`%` → `.*`, `_` → `.`, `\%` literal). */
  like?: string;
  pos: number;
}

interface FieldRef {
  path: string[];
  pos: number;
}

type Condition =
  | { kind: 'and' | 'or'; operands: Condition[] }
  | { kind: 'not'; operand: Condition }
  | { kind: 'equals'; field: FieldRef; value: Literal; negated: boolean }
  | { kind: 'like'; field: FieldRef; pattern: RegExp }
  | { kind: 'in'; field: FieldRef; values: Literal[]; negated: boolean };

interface OrderBy {
  field: FieldRef;
  descending: boolean;
  nullsLast: boolean;
}

interface SoqlQuery {
  fields: FieldRef[];
  object: { name: string; pos: number };
  where: Condition | null;
  orderBy: OrderBy[];
  limit: number | null;
}

// ------------------------------------------------------------------------------------- positions

/** Salesforce's error framing: the query line, a caret under the culprit, then Row:Column. */
function located(source: string, pos: number, detail: string): string {
  const before = source.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = source.indexOf('\n', pos);
  const line = source.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const column = pos - lineStart + 1;
  return `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`;
}

// ------------------------------------------------------------------------------------- tokenizer

const STRING_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };
const SYMBOLS = ['!=', '<>', '(', ')', ',', '='];

function regexEscape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** A quoted string starting at `start` (the opening quote): its value, LIKE pattern and end. */
function readString(source: string, start: number): { token: Token; end: number } {
  let value = '';
  let like = '';
  let i = start + 1;
  while (i < source.length && source[i] !== "'") {
    const c = source[i] ?? '';
    if (c !== '\\') {
      value += c;
      like += c === '%' ? '.*' : c === '_' ? '.' : regexEscape(c);
      i++;
      continue;
    }
    const next = source[i + 1] ?? '';
    if (next === '%' || next === '_') {
      // LIKE's escaped wildcards: literal characters.
      value += next;
      like += regexEscape(next);
    } else if (next in STRING_ESCAPES) {
      const decoded = STRING_ESCAPES[next] ?? next;
      value += decoded;
      like += regexEscape(decoded);
    } else {
      throw new SoqlError('MALFORMED_QUERY', located(source, i, `Invalid string literal '${source.slice(start + 1, i + 2)}'. Illegal character sequence '\\${next}' in string literal.`));
    }
    i += 2;
  }
  if (i >= source.length) throw new SoqlError('MALFORMED_QUERY', located(source, start, 'unexpected token: unterminated string literal'));
  return { token: { kind: 'string', text: source.slice(start, i + 1), value, like, pos: start }, end: i + 1 };
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (rest.startsWith("'")) {
      const { token, end } = readString(source, i);
      tokens.push(token);
      i = end;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    const number = /^-?\d+(\.\d+)?(?![A-Za-z_])/.exec(rest);
    const symbol = SYMBOLS.find((s) => rest.startsWith(s));
    if (word) tokens.push({ kind: 'word', text: word[0], value: word[0], pos: i });
    else if (number) tokens.push({ kind: 'number', text: number[0], value: Number(number[0]), pos: i });
    else if (symbol) tokens.push({ kind: 'symbol', text: symbol, value: symbol, pos: i });
    else throw new SoqlError('MALFORMED_QUERY', located(source, i, `unexpected token: '${rest[0] ?? ''}'`));
    i += (word?.[0] ?? number?.[0] ?? symbol ?? '').length;
  }
  tokens.push({ kind: 'end', text: '<EOF>', value: null, pos: source.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------- parser

class Parser {
  private at = 0;
  private readonly tokens: Token[];

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  parse(): SoqlQuery {
    this.keyword('SELECT');
    const fields = this.commaSeparated(() => this.field());
    this.keyword('FROM');
    const objectToken = this.expectWord();
    const where = this.optionalKeyword('WHERE') ? this.condition() : null;
    let orderBy: OrderBy[] = [];
    if (this.optionalKeyword('ORDER')) {
      this.keyword('BY');
      orderBy = this.commaSeparated(() => this.orderItem());
    }
    const limit = this.optionalKeyword('LIMIT') ? this.integer() : null;
    if (this.peek().kind !== 'end') this.unexpected();
    return { fields, object: { name: objectToken.text, pos: objectToken.pos }, where, orderBy, limit };
  }

  /** One level of conditions joined by a single conjunction: SOQL rejects `a AND b OR c`. */
  private condition(): Condition {
    const operands = [this.unary()];
    const first = this.peekKeyword('AND') ? 'and' : this.peekKeyword('OR') ? 'or' : null;
    if (first === null) return operands[0] as Condition;
    while (this.optionalKeyword(first.toUpperCase())) operands.push(this.unary());
    if (this.peekKeyword('AND') || this.peekKeyword('OR')) this.unexpected();
    return { kind: first, operands };
  }

  private unary(): Condition {
    if (this.optionalKeyword('NOT')) return { kind: 'not', operand: this.unary() };
    if (this.symbolIs('(')) {
      this.next();
      const inner = this.condition();
      this.symbol(')');
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const field = this.field();
    const op = this.peek();
    if (op.kind === 'symbol' && ['=', '!=', '<>'].includes(op.text)) {
      this.next();
      return { kind: 'equals', field, value: this.literal(), negated: op.text !== '=' };
    }
    if (this.optionalKeyword('LIKE')) {
      const pattern = this.next();
      if (pattern.like === undefined) return this.unexpected(pattern);
      return { kind: 'like', field, pattern: new RegExp(`^${pattern.like}$`, 'is') };
    }
    const negated = this.optionalKeyword('NOT');
    if (this.optionalKeyword('IN')) {
      this.symbol('(');
      const values = this.commaSeparated(() => this.literal());
      this.symbol(')');
      return { kind: 'in', field, values, negated };
    }
    return this.unexpected();
  }

  private orderItem(): OrderBy {
    const field = this.field();
    const descending = this.optionalKeyword('DESC');
    if (!descending) this.optionalKeyword('ASC');
    // Nulls sort first in either direction unless the query says otherwise (Salesforce's default).
    let nullsLast = false;
    if (this.optionalKeyword('NULLS')) {
      nullsLast = this.optionalKeyword('LAST');
      if (!nullsLast) this.keyword('FIRST');
    }
    return { field, descending, nullsLast };
  }

  private literal(): Literal {
    const token = this.next();
    if (token.kind === 'string' || token.kind === 'number') return token.value;
    if (token.kind === 'word') {
      const upper = token.text.toUpperCase();
      if (upper === 'NULL') return null;
      if (upper === 'TRUE' || upper === 'FALSE') return upper === 'TRUE';
    }
    return this.unexpected(token);
  }

  private integer(): number {
    const token = this.next();
    if (token.kind !== 'number' || !Number.isInteger(token.value) || (token.value as number) < 0) this.unexpected(token);
    return token.value as number;
  }

  private field(): FieldRef {
    const token = this.expectWord();
    return { path: token.text.split('.'), pos: token.pos };
  }

  // ----------------------------------------------------------------------------- token helpers

  private peek(): Token {
    return this.tokens[this.at] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.at++;
    return token;
  }

  private peekKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'word' && token.text.toUpperCase() === word;
  }

  private optionalKeyword(word: string): boolean {
    if (!this.peekKeyword(word)) return false;
    this.next();
    return true;
  }

  private keyword(word: string): void {
    if (!this.optionalKeyword(word)) this.unexpected();
  }

  /** One item or more, separated by commas. */
  private commaSeparated<T>(item: () => T): T[] {
    const items = [item()];
    while (this.symbolIs(',')) {
      this.next();
      items.push(item());
    }
    return items;
  }

  private symbolIs(text: string): boolean {
    const token = this.peek();
    return token.kind === 'symbol' && token.text === text;
  }

  private symbol(text: string): void {
    if (!this.symbolIs(text)) this.unexpected();
    this.next();
  }

  private expectWord(): Token {
    const token = this.next();
    if (token.kind !== 'word') this.unexpected(token);
    return token;
  }

  private unexpected(token: Token = this.peek()): never {
    throw new SoqlError('MALFORMED_QUERY', located(this.source, token.pos, `unexpected token: '${token.text}'`));
  }
}

// ------------------------------------------------------------------------------- name resolution

function findType(source: SoqlSource, name: string): SObjectType | undefined {
  return source.types.find((t) => t.name.toLowerCase() === name.toLowerCase());
}

function canonical(names: Iterable<string>, name: string): string | undefined {
  for (const n of names) if (n.toLowerCase() === name.toLowerCase()) return n;
  return undefined;
}

/** A field reference resolved to canonical names, with the object each relationship step reaches. */
interface ResolvedField {
  path: string[];
  /** Object types along the path: `types[i]` owns `path[i]`. */
  types: SObjectType[];
}

function resolveField(text: string, source: SoqlSource, root: SObjectType, field: FieldRef): ResolvedField {
  const path: string[] = [];
  const types: SObjectType[] = [];
  let type = root;
  for (const [i, part] of field.path.entries()) {
    types.push(type);
    if (i === field.path.length - 1) {
      const name = canonical(type.fields, part);
      if (name === undefined) {
        throw new SoqlError(
          'INVALID_FIELD',
          located(
            text,
            field.pos,
            `No such column '${part}' on entity '${type.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
          ),
        );
      }
      path.push(name);
      continue;
    }
    const relationship = canonical(Object.keys(type.relationships), part);
    const target = relationship === undefined ? undefined : findType(source, type.relationships[relationship] ?? '');
    if (relationship === undefined || target === undefined) {
      throw new SoqlError(
        'INVALID_FIELD',
        located(
          text,
          field.pos,
          `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        ),
      );
    }
    path.push(relationship);
    type = target;
  }
  return { path, types };
}

// ------------------------------------------------------------------------------------- execution

function valueAt(row: SObjectRow, path: string[]): unknown {
  let value: unknown = row;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as SObjectRow)[part] ?? null;
  }
  return value;
}

/** SOQL compares text case-insensitively. */
function comparable(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function equals(value: unknown, literal: Literal): boolean {
  if (literal === null) return value === null;
  return comparable(value) === comparable(literal);
}

type Resolver = (field: FieldRef) => string[];

function matches(row: SObjectRow, condition: Condition, resolve: Resolver): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.operands.every((c) => matches(row, c, resolve));
    case 'or':
      return condition.operands.some((c) => matches(row, c, resolve));
    case 'not':
      return !matches(row, condition.operand, resolve);
    case 'equals':
      return equals(valueAt(row, resolve(condition.field)), condition.value) !== condition.negated;
    case 'like': {
      const value = valueAt(row, resolve(condition.field));
      return typeof value === 'string' && condition.pattern.test(value);
    }
    case 'in': {
      const value = valueAt(row, resolve(condition.field));
      return condition.values.some((v) => equals(value, v)) !== condition.negated;
    }
  }
}

function compareRows(a: SObjectRow, b: SObjectRow, orderBy: { path: string[]; descending: boolean; nullsLast: boolean }[]): number {
  for (const { path, descending, nullsLast } of orderBy) {
    const x = comparable(valueAt(a, path));
    const y = comparable(valueAt(b, path));
    if (x === y) continue;
    // Nulls go first or last whatever the direction.
    if (x === null) return nullsLast ? 1 : -1;
    if (y === null) return nullsLast ? -1 : 1;
    const order = (x as string | number) < (y as string | number) ? -1 : 1;
    return descending ? -order : order;
  }
  return 0;
}

/** Copies the selected fields into an answer record, nesting relationship fields with their attributes. */
function project(row: SObjectRow, type: SObjectType, fields: ResolvedField[], source: SoqlSource): SObjectRow {
  const out: SObjectRow = { attributes: source.attributes(type.name, row) };
  for (const { path, types } of fields) {
    let from: SObjectRow = row;
    let into: SObjectRow = out;
    for (const [i, part] of path.entries()) {
      if (i === path.length - 1) {
        into[part] = from[part] ?? null;
        break;
      }
      const related = from[part];
      if (related === null || typeof related !== 'object') {
        into[part] = null;
        break;
      }
      const target = types[i + 1] as SObjectType;
      into[part] ??= { attributes: source.attributes(target.name, related as SObjectRow) };
      from = related as SObjectRow;
      into = into[part] as SObjectRow;
    }
  }
  return out;
}

/** Runs a query over the source's rows; throws a SoqlError in Salesforce's terms. */
export function executeSoql(text: string, source: SoqlSource): SObjectRow[] {
  const query = new Parser(text).parse();
  const type = findType(source, query.object.name);
  if (!type) {
    throw new SoqlError(
      'INVALID_TYPE',
      located(
        text,
        query.object.pos,
        `sObject type '${query.object.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      ),
    );
  }
  const resolved = new Map<FieldRef, ResolvedField>();
  const resolve = (field: FieldRef): ResolvedField => {
    let r = resolved.get(field);
    if (!r) resolved.set(field, (r = resolveField(text, source, type, field)));
    return r;
  };
  const selected = query.fields.map(resolve);
  const seen = new Set<string>();
  for (const [i, field] of selected.entries()) {
    const key = field.path.join('.').toLowerCase();
    if (seen.has(key)) throw new SoqlError('MALFORMED_QUERY', located(text, query.fields[i]?.pos ?? 0, `duplicate field selected: ${field.path.join('.')}`));
    seen.add(key);
  }
  // Resolve every name up front so an unknown field fails even when no row reaches the condition.
  const order = query.orderBy.map((o) => ({ path: resolve(o.field).path, descending: o.descending, nullsLast: o.nullsLast }));
  const paths = (field: FieldRef): string[] => resolve(field).path;
  if (query.where) conditionFields(query.where).forEach(paths);

  let rows = source.rows(type.name);
  if (query.where) rows = rows.filter((row) => matches(row, query.where as Condition, paths));
  if (order.length > 0) rows = [...rows].sort((a, b) => compareRows(a, b, order));
  if (query.limit !== null) rows = rows.slice(0, query.limit);
  return rows.map((row) => project(row, type, selected, source));
}

function conditionFields(condition: Condition): FieldRef[] {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return condition.operands.flatMap(conditionFields);
    case 'not':
      return conditionFields(condition.operand);
    default:
      return [condition.field];
  }
}
