// Writes the KLUE-NLI parquet samples from klue-nli-v1.1_sample.json, with the columns and label
// numbering of the Hugging Face klue/nli export, using two independent parquet writers, so the
// reader in core/io/parquet.cpp is tested on files it did not write itself. ZSTD pages are
// compressed by the zstd command-line tool.
// Run (Node 18+), from a scratch folder outside the repository:
//   npm install hyparquet-writer@0.17.0 parquetjs-lite@0.8.7
//   cp /path/to/tests/data/downstream/make-parquet-samples.js .   (so that require finds node_modules)
//   node make-parquet-samples.js /path/to/tests/data/downstream
const fs = require('fs');
const path = require('path');
const parquet = require('parquetjs-lite');

const dir = process.argv[2] || __dirname;
const { execFileSync } = require('child_process');
const labels = { entailment: 0n, neutral: 1n, contradiction: 2n };  // HF klue/nli's ClassLabel
const rows = JSON.parse(fs.readFileSync(path.join(dir, 'klue-nli-v1.1_sample.json'), 'utf8'))
  .map(r => ({ guid: r.guid, source: r.source, premise: r.premise, hypothesis: r.hypothesis,
               label: labels[r.gold_label] }));
const stringColumns = ['guid', 'source', 'premise', 'hypothesis'];

// hyparquet-writer: data pages v2, RLE_DICTIONARY strings (the sample repeats its premises).
async function writeHyparquet(file, codec, extraColumns = [], layout = {}) {
  const { parquetWriteFile } = await import('hyparquet-writer');
  const columnData = stringColumns.map(name => ({ name, data: rows.map(r => r[name]), type: 'STRING' }));
  columnData.push({ name: 'label', data: rows.map(r => r.label), type: 'INT64' }, ...extraColumns);
  const compressors = { ZSTD: bytes => new Uint8Array(execFileSync('zstd', ['-q', '-c'], { input: bytes })) };
  parquetWriteFile({ filename: path.join(dir, file), columnData, codec, compressors, ...layout });
}

// parquetjs-lite: data pages v1 (or v2), PLAIN values, optional columns (RLE definition levels).
async function writeParquetjs(file, compression, labelType = 'INT64', written = rows, useDataPageV2 = false,
                             extraFields = {}) {
  const fields = {};
  for (const name of stringColumns) fields[name] = { type: 'UTF8', optional: true, compression };
  fields.label = { type: labelType, optional: true, compression };
  Object.assign(fields, extraFields);
  const writer = await parquet.ParquetWriter.openFile(new parquet.ParquetSchema(fields),
                                                      path.join(dir, file), { useDataPageV2 });
  for (const row of written) await writer.appendRow({ ...row, label: Number(row.label) });
  await writer.close();
}

(async () => {
  await writeHyparquet('klue-nli_dict_uncompressed.parquet', 'UNCOMPRESSED');
  await writeHyparquet('klue-nli_dict_snappy.parquet', 'SNAPPY');
  await writeParquetjs('klue-nli_plain_v1_snappy.parquet', 'SNAPPY');
  await writeParquetjs('klue-nli_plain_v2_snappy.parquet', 'SNAPPY', 'INT64', rows, true);
  await writeHyparquet('klue-nli_dict_zstd.parquet', 'ZSTD');
  // Row groups of 4, 4 and 1 rows, pages of about 100 bytes.
  await writeHyparquet('klue-nli_row_groups_snappy.parquet', 'SNAPPY', [], { rowGroupSize: 4, pageSize: 100 });
  // Files the reader must reject or flag: another codec, a DOUBLE column, a missing hypothesis
  // (with INT32 labels).
  await writeParquetjs('klue-nli_plain_v1_gzip.parquet', 'GZIP');
  await writeHyparquet('klue-nli_double_column.parquet', 'SNAPPY',
                       [{ name: 'score', data: rows.map(() => 0.5), type: 'DOUBLE' }]);
  const withNull = rows.slice(0, 3).map((r, i) => (i === 1 ? { ...r, hypothesis: undefined } : r));
  await writeParquetjs('klue-nli_null_hypothesis.parquet', 'UNCOMPRESSED', 'INT32', withNull);
  // The v1.1 file's annotator labels as a repeated column, which the reader rejects.
  const annotated = rows.map(r => ({ ...r, annotations: ['entailment', 'neutral'] }));
  await writeParquetjs('klue-nli_repeated_column.parquet', 'UNCOMPRESSED', 'INT64', annotated, false,
                       { annotations: { type: 'UTF8', repeated: true } });
  // ... and the genre inside a group, a nested column.
  const nested = rows.map(r => ({ ...r, meta: { genre: 'NEWS' } }));
  await writeParquetjs('klue-nli_nested_column.parquet', 'UNCOMPRESSED', 'INT64', nested, false,
                       { meta: { fields: { genre: { type: 'UTF8' } } } });
})();
