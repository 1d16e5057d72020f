// COM_STMT_EXECUTE (client → server; dev.mysql.com "COM_STMT_EXECUTE", mariadb.com/kb "COM_STMT_EXECUTE"):
//   0x17 · 4 statement id · 1 flags (cursor type) · 4 iteration count (1)
//   [lenenc parameter count — MySQL with CLIENT_QUERY_ATTRIBUTES; params beyond the statement's are named attributes]
//   when there are parameters: NULL bitmap ((n + 7) / 8 bytes, bit i = param i) · 1 new-params-bound flag ·
//   if bound: n × (1 type, 1 flag: 0x80 unsigned[, lenenc name with QUERY_ATTRIBUTES]) · the values, in order
// The layout depends on state the packet does not carry — the statement's parameter count (from its PREPARE_OK),
// the types bound by an earlier execute, and which parameters got COM_STMT_SEND_LONG_DATA — so the caller (the tap)
// holds that state per statement id and passes it in; the decoded types come back for it to keep.
// Bytes after the values the statement takes are not an error: MariaDB and MySQL stop reading there (mysql2 sends a
// value for a statement without placeholders, `execute('SELECT 1', [5])`, and the server ignores it). They are
// counted in `trailingBytes`, for the audit to say what it did not decode.
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import {
  DEFAULT_MAX_VALUE_BYTES, LONG_DATA_PARAM, readBinaryParam, SQL_NULL_PARAM, type ExecuteParam, type ParamType,
} from './binary-values.js';
import { CapabilityFlag, Command, CursorType, hasFlag, PARAM_UNSIGNED_FLAG } from './constants.js';
import { readLenencInt, readLenencString } from './lenenc.js';

export type { ExecuteParam, ParamType } from './binary-values.js';
export { paramAuditText } from './binary-values.js';

/** The caller's memory of one prepared statement. */
export interface PreparedStatementState {
  /** num_params from COM_STMT_PREPARE_OK. */
  readonly paramCount: number;
  /** Types from the last execute that bound them; null before the first. */
  readonly boundTypes: readonly ParamType[] | null;
  /** Parameter indexes that received COM_STMT_SEND_LONG_DATA since the last execute or reset. */
  readonly longDataParams?: ReadonlySet<number>;
}

export interface StmtExecuteOptions {
  /** Negotiated capabilities (CLIENT_QUERY_ATTRIBUTES changes the layout). */
  readonly capabilities: number;
  /** The full payload length when `payload` is only the framer's retained prefix. */
  readonly payloadLength?: number;
  readonly maxValueBytes?: number;
}

export interface QueryAttribute {
  readonly name: string;
  readonly value: ExecuteParam;
}

export interface ComStmtExecute {
  readonly type: 'stmt_execute';
  readonly statementId: number;
  readonly flags: number;
  readonly iterationCount: number;
  /** True when this packet (re)bound the types: the caller stores `paramTypes` as the statement's bound types. */
  readonly newParamsBound: boolean;
  readonly paramTypes: readonly ParamType[];
  readonly params: readonly ExecuteParam[];
  /** MySQL query attributes sent with the execute (named, after the statement's own parameters). */
  readonly attributes: readonly QueryAttribute[];
  /** The payload was cut by the framer: some params may be `not_retained` or shortened. */
  readonly truncated: boolean;
  /** Bytes after the last value the statement takes, which the server ignores (0 when `truncated`). */
  readonly trailingBytes: number;
}

/** The statement id alone, to look up its state before decoding the rest. */
export function readStmtExecuteStatementId(payload: Uint8Array): number {
  const reader = new ByteReader(payload);
  const command = reader.readUint8('COM_STMT_EXECUTE command');
  if (command !== Command.COM_STMT_EXECUTE) throw new WireFormatError(`COM_STMT_EXECUTE: command 0x${command.toString(16)}`);
  return reader.readUint32LE('COM_STMT_EXECUTE statement_id');
}

export function decodeComStmtExecute(payload: Uint8Array, statement: PreparedStatementState, options: StmtExecuteOptions): ComStmtExecute {
  const truncated = options.payloadLength !== undefined && options.payloadLength > payload.length;
  const valueOptions = { maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES, truncated };
  const reader = new ByteReader(payload);
  const statementId = readStmtExecuteStatementId(payload);
  reader.skip(5, 'COM_STMT_EXECUTE header');
  const flags = reader.readUint8('COM_STMT_EXECUTE flags');
  const iterationCount = reader.readUint32LE('COM_STMT_EXECUTE iteration_count');
  const attributesOn = hasFlag(options.capabilities, CapabilityFlag.CLIENT_QUERY_ATTRIBUTES);
  let count = statement.paramCount;
  if (attributesOn && (count > 0 || hasFlag(flags, CursorType.PARAMETER_COUNT_AVAILABLE))) {
    count = readLenencInt(reader, 'COM_STMT_EXECUTE parameter_count');
    if (count < statement.paramCount) {
      throw new WireFormatError(`COM_STMT_EXECUTE: ${count} parameters sent, the statement has ${statement.paramCount}`);
    }
  }
  const trailing = (): number => (truncated ? 0 : reader.remaining);
  const none: ComStmtExecute = {
    type: 'stmt_execute', statementId, flags, iterationCount, newParamsBound: false, paramTypes: [], params: [], attributes: [], truncated,
    trailingBytes: 0,
  };
  if (count === 0) return { ...none, trailingBytes: trailing() };
  // The bitmap comes before anything that could be cut in practice, but a tiny retain cap could still cut it.
  const nullBitmap = reader.readBytes(Math.ceil(count / 8), 'COM_STMT_EXECUTE null_bitmap');
  const bound = reader.readUint8('COM_STMT_EXECUTE new_params_bind_flag');
  if (bound > 1) throw new WireFormatError(`COM_STMT_EXECUTE: new_params_bind_flag ${bound}`);
  let paramTypes: ParamType[];
  const names: string[] = [];
  if (bound === 1) {
    paramTypes = [];
    for (let i = 0; i < count; i++) {
      const columnType = reader.readUint8('COM_STMT_EXECUTE parameter_type');
      const flag = reader.readUint8('COM_STMT_EXECUTE parameter_flag');
      paramTypes.push({ columnType, unsigned: (flag & PARAM_UNSIGNED_FLAG) !== 0 });
      if (attributesOn) names.push(readLenencString(reader, 'COM_STMT_EXECUTE parameter_name'));
    }
  } else {
    const previous = statement.boundTypes;
    if (previous === null) throw new WireFormatError('COM_STMT_EXECUTE: parameter types were never bound');
    if (previous.length !== count) throw new WireFormatError(`COM_STMT_EXECUTE: ${count} parameters, ${previous.length} bound types`);
    paramTypes = [...previous];
  }
  const values: ExecuteParam[] = [];
  for (let i = 0; i < count; i++) {
    const type = paramTypes[i] as ParamType;
    if (((nullBitmap[i >> 3] as number) & (1 << (i & 7))) !== 0) values.push(SQL_NULL_PARAM);
    else if (i < statement.paramCount && statement.longDataParams?.has(i) === true) values.push(LONG_DATA_PARAM);
    else values.push(readBinaryParam(reader, type, valueOptions));
  }
  const attributes: QueryAttribute[] = [];
  for (let i = statement.paramCount; i < count; i++) {
    attributes.push({ name: names[i] ?? '', value: values[i] as ExecuteParam });
  }
  return {
    ...none,
    newParamsBound: bound === 1,
    paramTypes: paramTypes.slice(0, statement.paramCount),
    params: values.slice(0, statement.paramCount),
    attributes,
    trailingBytes: trailing(),
  };
}
