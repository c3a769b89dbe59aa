package sluice.testbed.canal;

import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.DatabaseTableMeta;
import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.TableMetaTSDB;
import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.TableMetaTSDBFactory;
import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.dao.MetaHistoryDAO;
import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.dao.MetaHistoryDO;
import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.dao.MetaSnapshotDAO;
import com.alibaba.otter.canal.parse.inbound.mysql.tsdb.dao.MetaSnapshotDO;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * canal's table-meta TSDB ({@link DatabaseTableMeta}: table structures replayed from the DDL in the
 * binlog, so a row event is decoded with the columns its table had when it was written), with its
 * two DAOs kept in memory instead of canal's H2/MySQL tables. canal's deployer wires the DAOs with
 * spring/tsdb/h2-tsdb.xml and MyBatis maps that Maven Central does not serve (they are deployer
 * resources); the queries below are those maps' (canal 1.1.7 sqlmap_history.xml /
 * sqlmap_snapshot.xml). On a JVM restart the history is gone and canal falls back to what it does
 * on a first start: a dump of the current table structures (DatabaseTableMeta.rollback).
 */
final class MemoryTsdb {

    private MemoryTsdb() {}

    static final TableMetaTSDBFactory FACTORY = new TableMetaTSDBFactory() {
        @Override
        public TableMetaTSDB build(String destination, String springXml) {
            DatabaseTableMeta meta = new DatabaseTableMeta();
            meta.setMetaHistoryDAO(new History());
            meta.setMetaSnapshotDAO(new Snapshots());
            return meta;
        }

        @Override
        public void destory(String destination) {}
    };

    private static final AtomicLong IDS = new AtomicLong();

    private static long ts(Long v) {
        return v == null ? 0L : v;
    }

    /** meta_history: DDL statements with their binlog positions. */
    static final class History extends MetaHistoryDAO {
        private final List<MetaHistoryDO> rows = new ArrayList<>();

        @Override
        public synchronized Long insert(MetaHistoryDO d) {
            d.setId(IDS.incrementAndGet());
            d.setGmtCreate(new Date());
            d.setGmtModified(new Date());
            rows.add(d);
            return 1L;
        }

        /** binlog_timestamp >= snapshotTimestamp and <= timestamp, order by binlog_timestamp, id. */
        @Override
        public synchronized List<MetaHistoryDO> findByTimestamp(String destination, Long snapshotTimestamp, Long timestamp) {
            long from = ts(snapshotTimestamp);
            long to = ts(timestamp);
            List<MetaHistoryDO> out = new ArrayList<>();
            for (MetaHistoryDO d : rows) {
                long t = ts(d.getBinlogTimestamp());
                if (destination.equals(d.getDestination()) && t >= from && t <= to) out.add(d);
            }
            out.sort(Comparator.comparingLong((MetaHistoryDO d) -> ts(d.getBinlogTimestamp())).thenComparing(MetaHistoryDO::getId));
            return out;
        }

        @Override
        public synchronized Integer deleteByName(String destination) {
            int before = rows.size();
            rows.removeIf(d -> destination.equals(d.getDestination()));
            return before - rows.size();
        }

        @Override
        public synchronized Integer deleteByTimestamp(String destination, int interval) {
            long limit = System.currentTimeMillis() - interval * 1000L;
            int before = rows.size();
            rows.removeIf(d -> destination.equals(d.getDestination()) && ts(d.getBinlogTimestamp()) < limit);
            return before - rows.size();
        }

        @Override
        protected void initDao() {}
    }

    /** meta_snapshot: full table-structure snapshots at binlog positions. */
    static final class Snapshots extends MetaSnapshotDAO {
        private final List<MetaSnapshotDO> rows = new ArrayList<>();

        @Override
        public synchronized Long insert(MetaSnapshotDO d) {
            d.setId(IDS.incrementAndGet());
            d.setGmtCreate(new Date());
            d.setGmtModified(new Date());
            rows.add(d);
            return 1L;
        }

        /** update ... where destination = ? and binlog_timestamp = 0 (the initial snapshot). */
        @Override
        public synchronized Long update(MetaSnapshotDO d) {
            long n = 0;
            for (MetaSnapshotDO r : rows) {
                if (d.getDestination().equals(r.getDestination()) && ts(r.getBinlogTimestamp()) == 0L) {
                    r.setGmtModified(new Date());
                    r.setBinlogFile(d.getBinlogFile());
                    r.setBinlogOffest(d.getBinlogOffest());
                    r.setBinlogMasterId(d.getBinlogMasterId());
                    r.setBinlogTimestamp(d.getBinlogTimestamp());
                    r.setData(d.getData());
                    r.setExtra(d.getExtra());
                    n++;
                }
            }
            return n;
        }

        /** binlog_timestamp < timestamp, order by binlog_timestamp desc, id desc, limit 1. */
        @Override
        public synchronized MetaSnapshotDO findByTimestamp(String destination, Long timestamp) {
            long to = ts(timestamp);
            MetaSnapshotDO best = null;
            for (MetaSnapshotDO r : rows) {
                if (!destination.equals(r.getDestination()) || ts(r.getBinlogTimestamp()) >= to) continue;
                if (best == null || ts(r.getBinlogTimestamp()) > ts(best.getBinlogTimestamp())
                    || (ts(r.getBinlogTimestamp()) == ts(best.getBinlogTimestamp()) && r.getId() > best.getId())) {
                    best = r;
                }
            }
            return best;
        }

        @Override
        public synchronized Integer deleteByName(String destination) {
            int before = rows.size();
            rows.removeIf(d -> destination.equals(d.getDestination()));
            return before - rows.size();
        }

        @Override
        public synchronized Integer deleteByTimestamp(String destination, int interval) {
            long limit = System.currentTimeMillis() - interval * 1000L;
            int before = rows.size();
            rows.removeIf(d -> destination.equals(d.getDestination()) && ts(d.getBinlogTimestamp()) < limit
                && ts(d.getBinlogTimestamp()) != 0L);
            return before - rows.size();
        }

        @Override
        protected void initDao() {}
    }
}
