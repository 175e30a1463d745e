import { quoteIdentifier, type SqlExecutor } from '../adapters/sql/port.js';

/**
 * Bulk row access for projections: a batch folds its events into rows in memory, loads the rows
 * it touches in ONE query and writes them back in ONE multi-row upsert per table
 * (INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE). Per-column arrays keep the
 * statement size independent of the row count and avoid a parameter per value.
 */
export interface ColumnSpec {
  readonly name: string;
  /** Postgres type of the column, used to cast the parameter array (e.g. 'text', 'numeric'). */
  readonly type: string;
}

export interface TableSpec {
  readonly table: string;
  readonly columns: readonly ColumnSpec[];
  /** Primary-key column names, tenant_id first. */
  readonly key: readonly string[];
}

export type Row = Record<string, unknown>;

export function rowKey(spec: TableSpec, row: Row): string {
  return JSON.stringify(spec.key.map((column) => row[column]));
}

function typeOf(spec: TableSpec, column: string): string {
  const found = spec.columns.find((candidate) => candidate.name === column);
  if (!found) throw new Error(`${spec.table} has no column ${column}`);
  return found.type;
}

/** Timestamps as ISO strings in memory, so a loaded row and a folded one compare and write alike. */
function normalize(row: Row): Row {
  for (const [column, value] of Object.entries(row)) if (value instanceof Date) row[column] = value.toISOString();
  return row;
}

/** The existing rows for `keys` (objects holding the key columns), by `rowKey`. */
export async function loadRows(tx: SqlExecutor, schema: string, spec: TableSpec, keys: readonly Row[]): Promise<Map<string, Row>> {
  const found = new Map<string, Row>();
  if (keys.length === 0) return found;
  const unique = new Map(keys.map((key) => [rowKey(spec, key), key]));
  const arrays = spec.key.map((column) => [...unique.values()].map((key) => key[column]));
  const unnest = spec.key.map((column, i) => `$${i + 1}::${typeOf(spec, column)}[]`).join(', ');
  const { rows } = await tx.query<Row>(
    `SELECT t.* FROM ${quoteIdentifier(schema)}.${quoteIdentifier(spec.table)} t
      WHERE (${spec.key.map((c) => `t.${quoteIdentifier(c)}`).join(', ')}) IN (SELECT * FROM unnest(${unnest}))`,
    arrays,
  );
  for (const row of rows) found.set(rowKey(spec, row), normalize(row));
  return found;
}

/** Writes whole rows: inserts new ones, overwrites existing ones (every non-key column). */
export async function upsertRows(tx: SqlExecutor, schema: string, spec: TableSpec, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const names = spec.columns.map((column) => quoteIdentifier(column.name));
  const arrays = spec.columns.map((column) => rows.map((row) => row[column.name] ?? null));
  const unnest = spec.columns.map((column, i) => `$${i + 1}::${column.type}[]`).join(', ');
  const updates = spec.columns
    .filter((column) => !spec.key.includes(column.name))
    .map((column) => `${quoteIdentifier(column.name)} = excluded.${quoteIdentifier(column.name)}`)
    .join(', ');
  await tx.query(
    `INSERT INTO ${quoteIdentifier(schema)}.${quoteIdentifier(spec.table)} (${names.join(', ')})
     SELECT * FROM unnest(${unnest})
     ON CONFLICT (${spec.key.map(quoteIdentifier).join(', ')}) DO UPDATE SET ${updates}`,
    arrays,
  );
}

/**
 * The batch fold every read model uses: one load of the rows the events touch, the events applied
 * in order in memory, one upsert of the changed rows. `keyOf` returns null for events that do not
 * concern this table; `evolve` gets the current row (undefined if none) and returns the new one.
 */
export async function foldIntoTable<E>(
  tx: SqlExecutor,
  schema: string,
  spec: TableSpec,
  events: readonly E[],
  keyOf: (event: E) => Row | null,
  evolve: (row: Row | undefined, event: E, key: Row) => Row,
): Promise<void> {
  const keyed: Array<[Row, E]> = [];
  for (const event of events) {
    const key = keyOf(event);
    if (key !== null) keyed.push([key, event]);
  }
  if (keyed.length === 0) return;
  const rows = await loadRows(tx, schema, spec, keyed.map(([key]) => key));
  const touched = new Set<string>();
  for (const [key, event] of keyed) {
    const id = rowKey(spec, key);
    rows.set(id, evolve(rows.get(id), event, key));
    touched.add(id);
  }
  await upsertRows(tx, schema, spec, [...touched].map((id) => rows.get(id)!));
}
