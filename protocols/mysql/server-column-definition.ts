// Column Definition 41 (server → client; dev.mysql.com "Column Definition", mariadb.com/kb "Result Set Packets"):
// six lenenc strings, MariaDB's optional extended type info, a lenenc 0x0c, then the fixed fields. COM_FIELD_LIST
// appends the column default as one more lenenc string. The tap needs only the type (to know binary row layouts), so
// `scanColumnType` skips the strings without decoding them.
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { readLenencBytesOrNull, readLenencInt, readLenencString, skipLenencString, utf8Text } from './lenenc.js';

const FIXED_FIELDS_LENGTH = 0x0c;

/** MariaDB extended type info (MARIADB_CLIENT_EXTENDED_METADATA): 0x00 = type name (e.g. "json"), 0x01 = format. */
export interface ExtendedTypeInfo {
  readonly typeName: string | null;
  readonly format: string | null;
}

export interface ColumnDefinition41 {
  readonly type: 'column_definition';
  readonly catalog: string;
  readonly schema: string;
  readonly table: string;
  readonly orgTable: string;
  readonly name: string;
  readonly orgName: string;
  readonly extendedTypeInfo: ExtendedTypeInfo | null;
  readonly characterSet: number;
  readonly columnLength: number;
  readonly columnType: number;
  readonly flags: number;
  readonly decimals: number;
  /** COM_FIELD_LIST only: the default value (null when NULL or absent). */
  readonly defaultValue: string | null;
}

export interface ColumnDefinitionOptions {
  /** MARIADB_CLIENT_EXTENDED_METADATA was negotiated. */
  readonly extendedMetadata: boolean;
}

function decodeExtendedTypeInfo(block: Uint8Array): ExtendedTypeInfo {
  const reader = new ByteReader(block);
  let typeName: string | null = null;
  let format: string | null = null;
  while (reader.remaining > 0) {
    const key = reader.readUint8('extended type info key');
    const value = readLenencString(reader, 'extended type info value');
    if (key === 0x00) typeName = value;
    else if (key === 0x01) format = value;
    // Unknown keys are skipped: MariaDB may add more, and the value is self-delimiting.
  }
  return { typeName, format };
}

function readFixedFieldsLength(reader: ByteReader): void {
  const length = readLenencInt(reader, 'column length of fixed fields');
  if (length !== FIXED_FIELDS_LENGTH) throw new WireFormatError(`column: fixed fields length ${length}, expected 12`);
}

export function decodeColumnDefinition41(payload: Uint8Array, options: ColumnDefinitionOptions): ColumnDefinition41 {
  const reader = new ByteReader(payload);
  const catalog = readLenencString(reader, 'column catalog');
  const schema = readLenencString(reader, 'column schema');
  const table = readLenencString(reader, 'column table');
  const orgTable = readLenencString(reader, 'column org_table');
  const name = readLenencString(reader, 'column name');
  const orgName = readLenencString(reader, 'column org_name');
  let extendedTypeInfo: ExtendedTypeInfo | null = null;
  if (options.extendedMetadata) {
    const block = reader.readBytes(readLenencInt(reader, 'column extended info length'), 'column extended info');
    extendedTypeInfo = decodeExtendedTypeInfo(block);
  }
  readFixedFieldsLength(reader);
  const characterSet = reader.readUint16LE('column character_set');
  const columnLength = reader.readUint32LE('column column_length');
  const columnType = reader.readUint8('column type');
  const flags = reader.readUint16LE('column flags');
  const decimals = reader.readUint8('column decimals');
  reader.skip(2, 'column reserved');
  let defaultValue: string | null = null;
  if (reader.remaining > 0) {
    const value = readLenencBytesOrNull(reader, 'column default');
    defaultValue = value === null ? null : utf8Text(value);
  }
  reader.expectEnd('column definition');
  return {
    type: 'column_definition', catalog, schema, table, orgTable, name, orgName, extendedTypeInfo,
    characterSet, columnLength, columnType, flags, decimals, defaultValue,
  };
}

/** The column type only, skipping names without decoding them (the tap's per-column cost). */
export function scanColumnType(payload: Uint8Array, options: ColumnDefinitionOptions): number {
  const reader = new ByteReader(payload);
  for (let i = 0; i < 6; i++) skipLenencString(reader, 'column name fields');
  if (options.extendedMetadata) skipLenencString(reader, 'column extended info');
  readFixedFieldsLength(reader);
  reader.skip(6, 'column character_set, column_length');
  const columnType = reader.readUint8('column type');
  reader.skip(5, 'column flags, decimals, reserved');
  return columnType;
}
