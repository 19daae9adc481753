// Field errors as k8s.io/apimachinery/pkg/util/validation/field renders them. Admission denials quote
// these texts verbatim, so `formatFieldError` reproduces Go's `(*field.Error).Error()` byte for byte.

/** The `reason` strings Go uses for field.ErrorType (also the StatusCause reasons on the wire). */
export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path as Go's field.Path.String(), e.g. `spec.sources[0].configMap`. */
  field: string;
  /** Absent = the value is omitted from the text. */
  badValue?: unknown;
  detail: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

// Go prints these types without the value whatever it is.
const VALUELESS: ReadonlySet<FieldErrorType> = new Set([
  'FieldValueRequired',
  'FieldValueForbidden',
  'FieldValueTooLong',
  'InternalError',
]);

/** Go's Path.Child: `spec` + `sources` => `spec.sources`. */
export function childPath(base: string, ...names: string[]): string {
  return [base, ...names].filter((part) => part !== '').join('.');
}

/** Go's Path.Index: `spec.sources` + 0 => `spec.sources[0]`. */
export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

export function invalid(field: string, badValue: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, badValue, detail };
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, detail };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

export function notSupported(field: string, badValue: unknown, supported: readonly string[]): FieldError {
  const detail = supported.length > 0 ? `supported values: ${supported.map(goQuote).join(', ')}` : '';
  return { type: 'FieldValueNotSupported', field, badValue, detail };
}

export function tooLong(field: string, maxLength: number): FieldError {
  const detail = maxLength >= 0 ? `may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}` : 'value is too long';
  return { type: 'FieldValueTooLong', field, detail };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} ${max === 1 ? 'item' : 'items'}` : 'has too many items';
  return { type: 'FieldValueTooMany', field, badValue: actual, detail };
}

export function typeInvalid(field: string, badValue: unknown, detail: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field, badValue, detail };
}

export function internalError(field: string, detail: string): FieldError {
  return { type: 'InternalError', field, detail };
}

/** Go's `(*field.Error).Error()`: `<field>: <type>[: <value>][: <detail>]`. */
export function formatFieldError(error: FieldError): string {
  return `${error.field}: ${fieldErrorBody(error)}`;
}

function fieldErrorBody(error: FieldError): string {
  let body = TYPE_TEXT[error.type];
  if (!VALUELESS.has(error.type) && 'badValue' in error) {
    body += `: ${formatBadValue(error.badValue)}`;
  }
  if (error.detail !== '') body += `: ${error.detail}`;
  return body;
}

function formatBadValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // Go falls back to %#v for structs; JSON is the closest readable equivalent for our plain objects.
  return JSON.stringify(value) ?? 'null';
}

/**
 * ToAggregate().Error(): one error => its text; several => `[e1, e2]`. Errors with identical text are
 * reported once (Go's aggregate dedups by message), in first-seen order.
 */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const messages = [...new Set(errors.map(formatFieldError))];
  if (messages.length <= 1) return messages[0] ?? '';
  return `[${messages.join(', ')}]`;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

/** Go's strconv.Quote (the `%q` verb) for a JS string: printable runes kept, the rest escaped. */
export function goQuote(value: string): string {
  let out = '"';
  for (const char of value) {
    const simple = SIMPLE_ESCAPES[char];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const code = char.codePointAt(0) ?? 0;
    if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(char) || char === ' ') {
      out += char;
    } else if (code < 0x80) {
      out += `\\x${code.toString(16).padStart(2, '0')}`;
    } else if (code === 0xfffd) {
      // A lone surrogate or invalid UTF-8 arrives as U+FFFD; Go prints the replacement rune itself.
      out += char;
    } else if (code < 0x10000) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\U${code.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}
