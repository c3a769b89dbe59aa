package sluice.testbed.canal;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONObject;
import com.alibaba.fastjson2.JSONWriter;
import com.alibaba.otter.canal.client.CanalConnector;
import com.alibaba.otter.canal.client.CanalConnectors;
import com.alibaba.otter.canal.protocol.CanalEntry;
import com.alibaba.otter.canal.protocol.Message;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * canal's own Java client (com.alibaba.otter:canal.client 1.1.7) reading one destination of the
 * testbed canal-server over TCP: connect, subscribe(filter), getWithoutAck(batchSize, 500 ms),
 * ack — the loop of canal's ClientSample. A reference consumer for tests and benchmarks.
 *
 * <p>Usage: {@code CanalClientCheck host:port destination filter rows timeoutSeconds [user password]
 * [--quiet]}. Prints one JSON line per row change ({@code {"schema","table","eventType","before",
 * "after"}}, values as canal's strings, null for SQL NULL), and to stderr a last line
 * {@code {"rows":n,"batches":b,"ms":t,"firstMs":f,"lastMs":l,"bytes":v}} ({@code firstMs}/{@code lastMs}:
 * epoch ms when the first and the last non-empty batch was received; {@code bytes}: the total
 * length of the column values read). Exits 0 once {@code rows} row changes were read, 2 on
 * timeout. With {@code rows} = 0 it reads until the timeout and exits 0. With {@code --quiet} it
 * prints no rows but still reads every column's name and value, as a consumer would.
 *
 * <p>System properties: {@code sluice.batchSize} (the {@code getWithoutAck} batch size, default
 * 1000), {@code sluice.timeoutMs} (its timeout, default 500).
 */
public final class CanalClientCheck {

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: CanalClientCheck host:port destination filter rows timeoutSeconds [user password] [--quiet]");
            System.exit(64);
        }
        String[] hp = args[0].split(":");
        String destination = args[1];
        String filter = args[2];
        long want = Long.parseLong(args[3]);
        long deadline = System.currentTimeMillis() + Long.parseLong(args[4]) * 1000;
        boolean quiet = args[args.length - 1].equals("--quiet");
        String user = args.length >= 7 && !args[5].equals("--quiet") ? args[5] : "";
        String password = args.length >= 7 && !args[5].equals("--quiet") ? args[6] : "";
        CanalConnector connector = CanalConnectors.newSingleConnector(
            new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), destination, user, password);
        int batchSize = Integer.getInteger("sluice.batchSize", 1000);
        long timeoutMs = Long.getLong("sluice.timeoutMs", 500L);
        long rows = 0;
        long batches = 0;
        long bytes = 0;
        long firstMs = 0;
        long lastMs = 0;
        long t0 = System.currentTimeMillis();
        try {
            connector.connect();
            connector.subscribe(filter);
            while ((want == 0 || rows < want) && System.currentTimeMillis() < deadline) {
                Message message = connector.getWithoutAck(batchSize, timeoutMs, TimeUnit.MILLISECONDS);
                long batchId = message.getId();
                if (batchId == -1 || message.getEntries().isEmpty()) {
                    if (batchId != -1) connector.ack(batchId);
                    continue;
                }
                batches++;
                lastMs = System.currentTimeMillis();
                if (firstMs == 0) firstMs = lastMs;
                for (CanalEntry.Entry entry : message.getEntries()) {
                    if (entry.getEntryType() != CanalEntry.EntryType.ROWDATA) continue;
                    CanalEntry.RowChange rc = CanalEntry.RowChange.parseFrom(entry.getStoreValue());
                    if (rc.getIsDdl()) continue;
                    for (CanalEntry.RowData row : rc.getRowDatasList()) {
                        rows++;
                        if (quiet) {
                            bytes += touch(row.getBeforeColumnsList()) + touch(row.getAfterColumnsList());
                            continue;
                        }
                        JSONObject o = new JSONObject();
                        o.put("schema", entry.getHeader().getSchemaName());
                        o.put("table", entry.getHeader().getTableName());
                        o.put("eventType", rc.getEventType().name());
                        o.put("before", columns(row.getBeforeColumnsList()));
                        o.put("after", columns(row.getAfterColumnsList()));
                        System.out.println(o.toJSONString(JSONWriter.Feature.WriteNulls));
                    }
                }
                connector.ack(batchId);
            }
        } finally {
            connector.disconnect();
        }
        JSONObject summary = new JSONObject();
        summary.put("rows", rows);
        summary.put("batches", batches);
        summary.put("ms", System.currentTimeMillis() - t0);
        summary.put("firstMs", firstMs);
        summary.put("lastMs", lastMs);
        summary.put("bytes", bytes);
        System.err.println(JSON.toJSONString(summary));
        System.exit(want == 0 || rows >= want ? 0 : 2);
    }

    /** Reads every column's name and value (what a consumer does); returns the values' length. */
    private static long touch(java.util.List<CanalEntry.Column> cols) {
        long n = 0;
        for (CanalEntry.Column c : cols) {
            n += c.getName().length();
            if (!c.getIsNull()) n += c.getValue().length();
        }
        return n;
    }

    private static Map<String, String> columns(java.util.List<CanalEntry.Column> cols) {
        if (cols.isEmpty()) return null;
        Map<String, String> m = new LinkedHashMap<>();
        for (CanalEntry.Column c : cols) m.put(c.getName(), c.getIsNull() ? null : c.getValue());
        return m;
    }
}
