package sluice.testbed.canal;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONArray;
import com.alibaba.fastjson2.JSONObject;
import com.alibaba.fastjson2.JSONWriter;
import com.alibaba.otter.canal.common.zookeeper.ZkClientx;
import com.alibaba.otter.canal.common.zookeeper.ZookeeperPathUtils;
import com.alibaba.otter.canal.common.zookeeper.running.ServerRunningData;
import com.alibaba.otter.canal.common.zookeeper.running.ServerRunningListener;
import com.alibaba.otter.canal.common.zookeeper.running.ServerRunningMonitor;
import com.alibaba.otter.canal.common.zookeeper.running.ServerRunningMonitors;
import com.alibaba.otter.canal.connector.core.spi.CanalMQProducer;
import com.alibaba.otter.canal.filter.aviater.AviaterRegexFilter;
import com.alibaba.otter.canal.connector.kafka.producer.CanalKafkaProducer;
import com.alibaba.otter.canal.instance.core.CanalInstance;
import com.alibaba.otter.canal.instance.core.CanalMQConfig;
import com.alibaba.otter.canal.instance.manager.CanalInstanceWithManager;
import com.alibaba.otter.canal.instance.manager.model.Canal;
import com.alibaba.otter.canal.instance.manager.model.CanalParameter;
import com.alibaba.otter.canal.parse.CanalEventParser;
import com.alibaba.otter.canal.parse.inbound.AbstractEventParser;
import com.alibaba.otter.canal.parse.inbound.mysql.MysqlEventParser;
import com.alibaba.otter.canal.protocol.ClientIdentity;
import com.alibaba.otter.canal.protocol.position.EntryPosition;
import com.alibaba.otter.canal.protocol.position.LogPosition;
import com.alibaba.otter.canal.protocol.position.Position;
import com.alibaba.otter.canal.server.CanalMQStarter;
import com.alibaba.otter.canal.server.embedded.CanalServerWithEmbedded;
import com.alibaba.otter.canal.server.netty.CanalServerWithNetty;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.I0Itec.zkclient.IZkStateListener;
import org.I0Itec.zkclient.exception.ZkNoNodeException;
import org.I0Itec.zkclient.exception.ZkNodeExistsException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The testbed's canal-server: one JVM running canal 1.1.7's own server classes, with destinations
 * (canal instances) created and dropped at run time through a small HTTP control endpoint.
 *
 * <p>What is canal's own code: the instance ({@link CanalInstanceWithManager}: binlog dump, parse,
 * sink, memory store, meta), {@link CanalServerWithEmbedded}, the TCP server
 * {@link CanalServerWithNetty} (canal's client protocol on {@code sluice.canal.port}), the MQ loop
 * {@link CanalMQStarter} (getWithoutAck → send → ack/rollback) and {@link CanalKafkaProducer}
 * (flat JSON or protobuf). What is ours: building the {@link Canal} model from a JSON request
 * (instead of canal's deployer reading {@code instance.properties} through spring XML), the control
 * endpoint, and persisting the destination list so a restarted JVM serves the same destinations.
 *
 * <p>One deviation from canal's deployer: each Kafka-mode destination gets its own
 * {@link CanalMQStarter} and {@link CanalKafkaProducer}, where canal-server shares one producer
 * between its destinations. canal's send ends with {@code producer.flush()}, which waits for every
 * record of the producer; tests drop destinations and delete their topics while the worker may
 * still send one more batch, and a record for a deleted topic sits in the producer for
 * {@code delivery.timeout.ms} (120 s). With one shared producer every other destination's flush
 * waited that long: their topics stayed behind for two minutes (seen as end-to-end tests whose
 * target "did not catch up", with canal's store full and its MQ cursor unmoved).
 *
 * <p>Control endpoint (JSON, loopback only; see test/testbed/README.md):
 *
 * <ul>
 *   <li>{@code GET /health} → {@code {"ok":true,"tcp":"127.0.0.1:11111","destinations":[...]}}
 *   <li>{@code GET /destinations/<name>} → config + status (store and cursor positions)
 *   <li>{@code PUT /destinations/<name>} body {@code {"filter":"db\\..*","mode":"tcp"|"kafka",
 *       "flatMessage":true,"topic":"t","partition":0,"partitionsNum":null,"partitionHash":null,
 *       "journalName":null,"position":null,"timestamp":null,"blackFilter":"mysql\\.slave_.*",
 *       "batchSize":50}} → 201 with the config (start position filled in: the master's current
 *       position when none was given); 200 when the same config already exists; 409 when a
 *       different one does.
 *   <li>{@code DELETE /destinations/<name>} → stops it and deletes its meta (cursor) files.
 *   <li>{@code PUT /auth} body {@code {"user":"u","password":"p"}} / {@code DELETE /auth}: the TCP
 *       server's login (canal.user / canal.passwd), global to the server; none by default, as in
 *       canal's shipped canal.properties.
 * </ul>
 *
 * <p><b>Cluster mode</b> ({@code -Dsluice.canal.zk=host:port}, canal.properties'
 * {@code canal.zkServers}): as canal's deployer ({@code CanalController} 1.1.7) does with
 * {@code canal.zkServers} set, every destination is run through canal's own
 * {@link ServerRunningMonitor} (one per destination, {@link ServerRunningMonitors}) on a
 * {@link ZkClientx}: the server registers {@code /otter/canal/destinations/<d>/cluster/<ip:port>}
 * (EPHEMERAL), races for {@code /otter/canal/destinations/<d>/running} and starts the instance only
 * when it holds that node; a standby takes over when the node disappears (canal's delay: 5 s
 * after another server's node went). The client cursors live in ZooKeeper as with canal's
 * {@code default-instance.xml} ({@code PeriodMixedMetaManager} over {@code ZooKeeperMetaManager},
 * flushed every second), so the server that takes over continues from the last flushed ack.
 * {@code -Dsluice.canal.zk.sessionTimeoutMs} shortens the HA client's ZooKeeper session (canal:
 * zkclient's 30 s), which bounds how long a killed server's {@code running} node outlives it.
 * The same destination must be PUT on every launcher of the cluster (with the same explicit
 * start position). Per launcher instance; without the property nothing touches ZooKeeper.
 */
public final class SluiceCanalLauncher {

    private static final Logger log = LoggerFactory.getLogger(SluiceCanalLauncher.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}");
    /** canal's CanalMQStarter subscribes as this client (ClientIdentity(destination, 1001, "")). */
    private static final short MQ_CLIENT_ID = 1001;

    private final String ip = System.getProperty("sluice.canal.ip", "127.0.0.1");
    private final int port = Integer.getInteger("sluice.canal.port", 11111);
    private final int controlPort = Integer.getInteger("sluice.canal.control.port", 11180);
    private final String kafka = System.getProperty("sluice.canal.kafka", "127.0.0.1:19092");
    private final String mysql = System.getProperty("sluice.canal.mysql", "127.0.0.1:13306");
    private final String mysqlUser = System.getProperty("sluice.canal.mysql.user", "canal");
    private final String mysqlPassword = System.getProperty("sluice.canal.mysql.password", "canal");
    private final Path dataDir = Path.of(System.getProperty("sluice.canal.data", "data")).toAbsolutePath();
    private final Path destinationsFile = dataDir.resolve("destinations.json");
    /** canal.zkServers: cluster mode (see the class comment); empty: standalone. */
    private final String zkServers = System.getProperty("sluice.canal.zk", "").trim();
    /**
     * ZooKeeper session timeout of the HA client, ms; unset: canal's ({@code ZkClientx.getZkClient},
     * zkclient's default 30 s). A kill -9'd server's {@code running} node lives that long.
     */
    private final Integer zkSessionTimeoutMs = Integer.getInteger("sluice.canal.zk.sessionTimeoutMs");
    private ZkClientx zkclientx;

    /** destination → its config (the JSON of PUT, completed). Insertion order is kept. */
    private final Map<String, JSONObject> configs = Collections.synchronizedMap(new LinkedHashMap<>());
    /** Kafka-mode destination → its own MQ starter and producer (see the class comment). */
    private final Map<String, CanalMQStarter> mqStarters = new ConcurrentHashMap<>();
    private CanalServerWithEmbedded embedded;
    private final java.util.concurrent.ExecutorService stopper = Executors.newCachedThreadPool();
    private final java.util.Set<String> stopping = ConcurrentHashMap.newKeySet();
    private long nextCanalId = 1;

    public static void main(String[] args) throws Exception {
        new SluiceCanalLauncher().run();
    }

    private void run() throws Exception {
        long t0 = System.currentTimeMillis();
        Files.createDirectories(dataDir);
        embedded = CanalServerWithEmbedded.instance();
        embedded.setCanalInstanceGenerator(this::generate);
        embedded.start();
        if (!zkServers.isEmpty()) initCluster();

        CanalServerWithNetty netty = CanalServerWithNetty.instance();
        netty.setIp(ip);
        netty.setPort(port);
        netty.setEmbeddedServer(embedded);
        netty.start();
        log.info("## canal TCP server (canal 1.1.7 CanalServerWithNetty) on {}:{}", ip, port);

        restoreDestinations();

        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", controlPort), 16);
        http.createContext("/", this::handle);
        http.setExecutor(Executors.newFixedThreadPool(2));
        http.start();
        log.info("## control endpoint on http://127.0.0.1:{} (started in {} ms)", controlPort,
            System.currentTimeMillis() - t0);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("## stopping");
            http.stop(0);
            if (zkclientx != null) {
                for (ServerRunningMonitor m : ServerRunningMonitors.getRunningMonitors().values()) {
                    if (m.isStart()) m.stop();
                }
            }
            for (String name : new ArrayList<>(mqStarters.keySet())) closeMqStarter(name, mqStarters.remove(name));
            netty.stop();
            // canal's instance stop waits for each binlog dump read to return: bounded here
            Thread stop = new Thread(embedded::stop, "stop-embedded");
            stop.setDaemon(true);
            stop.start();
            try {
                stop.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        Thread.currentThread().join();
    }

    // ---------------------------------------------------------------- instances

    /**
     * Removes a destination's instance from canal's own instance map and returns it (null when
     * absent). {@code CanalServerWithEmbedded.getCanalInstances()} returns a copy (canal 1.1.7:
     * {@code Maps.newHashMap(canalInstances)}), so removing from it left the instance in the map:
     * a destination re-created under the same name then started the OLD instance, with the old
     * filter and position (tcp.test's "example" served an earlier run's table filter). canal's
     * own {@code stop(destination)} removes from the real map but stops synchronously, while the
     * MQ worker may still sit in getWithoutAck; hence the field.
     */
    @SuppressWarnings("unchecked")
    private CanalInstance removeInstance(String name) {
        try {
            java.lang.reflect.Field f = CanalServerWithEmbedded.class.getDeclaredField("canalInstances");
            f.setAccessible(true);
            return ((Map<String, CanalInstance>) f.get(embedded)).remove(name);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("canal's instance map is not reachable", e);
        }
    }

    /** The CanalInstanceGenerator: builds canal's instance from our stored config. */
    private CanalInstance generate(String destination) {
        JSONObject c = configs.get(destination);
        if (c == null) throw new IllegalStateException("no such destination: " + destination);
        Canal canal = new Canal();
        long id = c.getLongValue("canalId");
        canal.setId(id);
        canal.setName(destination);
        CanalParameter p = new CanalParameter();
        p.setCanalId(id);
        // meta (client cursors) in files like canal's file-instance.xml (FileMixedMetaManager), and
        // the parser's start position from memory, then from the meta (MEMORY_META_FAILBACK).
        p.setMetaMode(CanalParameter.MetaMode.LOCAL_FILE);
        if (!zkServers.isEmpty()) {
            // cluster mode: cursors in ZooKeeper, as canal's default-instance.xml
            p.setMetaMode(CanalParameter.MetaMode.MIXED);
            p.setZkClusters(List.of(zkServers));
        }
        p.setDataDir(dataDir.toString());
        p.setMetaFileFlushPeriod(1000);
        p.setIndexMode(CanalParameter.IndexMode.MEMORY_META_FAILBACK);
        // canal.properties defaults (1.1.7): memory store 16384 x 1 KiB, MEMSIZE batches.
        p.setStorageMode(CanalParameter.StorageMode.MEMORY);
        p.setMemoryStorageBufferSize(16384);
        p.setMemoryStorageBufferMemUnit(1024);
        p.setStorageBatchMode(CanalParameter.BatchMode.MEMSIZE);
        // CanalStarter sets canal.instance.memory.rawEntry=false when canal.mq.flatMessage=true.
        boolean kafkaMode = "kafka".equals(c.getString("mode"));
        p.setMemoryStorageRawEntry(!(kafkaMode && c.getBooleanValue("flatMessage")));
        p.setSourcingType(CanalParameter.SourcingType.MYSQL);
        p.setHaMode(CanalParameter.HAMode.HEARTBEAT);
        String[] hostPort = c.getString("master").split(":");
        p.setDbAddresses(List.of(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]))));
        p.setDbUsername(c.getString("dbUsername"));
        p.setDbPassword(c.getString("dbPassword"));
        p.setConnectionCharset("UTF-8");
        p.setSlaveId(c.getLongValue("slaveId"));
        p.setDefaultConnectionTimeoutInSeconds(30);
        p.setReceiveBufferSize(16384);
        p.setSendBufferSize(16384);
        p.setDetectingEnable(false);
        p.setTransactionSize(1024);
        p.setParallel(true);
        p.setGtidEnable(false);
        p.setTsdbEnable(false); // CanalInstanceWithManager's TSDB wants mysql-tsdb.xml: ours is set in Instance
        p.setDdlIsolation(false);
        p.setFilterTableError(false);
        p.setBlackFilter(c.getString("blackFilter"));
        EntryPosition start = new EntryPosition(c.getString("journalName"), c.getLong("position"),
            c.getLong("timestamp"));
        p.setPositions(List.of(JSON.toJSONString(start)));
        canal.setCanalParameter(p);
        CanalMQConfig mq = new CanalMQConfig();
        mq.setTopic(c.getString("topic"));
        mq.setPartition(c.getInteger("partition"));
        mq.setPartitionsNum(c.getInteger("partitionsNum"));
        mq.setPartitionHash(c.getString("partitionHash"));
        mq.setDynamicTopic(c.getString("dynamicTopic"));
        return new Instance(canal, c.getString("filter"), mq);
    }

    /**
     * canal's manager-mode instance, plus what the deployer's spring XML would have set: the MQ
     * config, and the table-meta TSDB (canal.instance.tsdb.enable=true, canal's default) with its
     * DAOs in memory ({@link MemoryTsdb}).
     */
    private static final class Instance extends CanalInstanceWithManager {
        Instance(Canal canal, String filter, CanalMQConfig mqConfig) {
            super(canal, filter);
            this.mqConfig = mqConfig;
            if (eventParser instanceof MysqlEventParser p) {
                p.setTableMetaTSDBFactory(MemoryTsdb.FACTORY);
                p.setTsdbSpringXml("memory");
                p.setTsdbJdbcUrl("");
                p.setTsdbJdbcUserName("");
                p.setTsdbJdbcPassword("");
                p.setEnableTsdb(true); // builds the TSDB now
                // the filters were set before the TSDB existed; setting them again hands them to it
                if (filter != null && !filter.isEmpty()) p.setEventFilter(new AviaterRegexFilter(filter));
                String black = canal.getCanalParameter().getBlackFilter();
                if (black != null && !black.isEmpty()) p.setEventBlackFilter(new AviaterRegexFilter(black));
            }
        }
    }

    /** The destination's MQ starter, made (with its own producer) on first use. */
    private synchronized CanalMQStarter mqStarter(String destination, boolean flat, int batchSize) {
        return mqStarters.computeIfAbsent(destination, d -> {
            Properties props = new Properties();
            props.setProperty("canal.mq.flatMessage", String.valueOf(flat));
            props.setProperty("canal.mq.canalBatchSize", String.valueOf(batchSize));
            props.setProperty("canal.mq.canalGetTimeout", "100");
            props.setProperty("canal.mq.accessChannel", "local");
            props.setProperty("canal.mq.database.hash", "true");
            // per destination here (canal.properties: 30 and 8 for the whole server)
            props.setProperty("canal.mq.send.thread.size", "4");
            props.setProperty("canal.mq.build.thread.size", "2");
            props.setProperty("kafka.bootstrap.servers", kafka);
            props.setProperty("kafka.acks", "all");
            props.setProperty("kafka.compression.type", "none");
            props.setProperty("kafka.batch.size", "16384");
            props.setProperty("kafka.linger.ms", "1");
            props.setProperty("kafka.max.request.size", "1048576");
            props.setProperty("kafka.buffer.memory", "33554432");
            props.setProperty("kafka.max.in.flight.requests.per.connection", "1");
            props.setProperty("kafka.retries", "0");
            CanalMQProducer producer = new CanalKafkaProducer();
            producer.init(props);
            CanalMQStarter starter = new CanalMQStarter(producer);
            starter.start("");
            dropStarterShutdownHook();
            log.info("## canal Kafka producer of {} started (flatMessage={})", d, flat);
            return starter;
        });
    }

    /**
     * canal 1.1.7's CanalMQStarter.start registers a shutdown hook and keeps it in a STATIC field,
     * which the next starter overwrites: every earlier hook (and with it its starter and producer)
     * would stay registered until the JVM exits. Our own shutdown hook destroys the starters, so
     * the starter's hook is taken out at once.
     */
    private static void dropStarterShutdownHook() {
        try {
            java.lang.reflect.Field f = CanalMQStarter.class.getDeclaredField("shutdownThread");
            f.setAccessible(true);
            Thread hook = (Thread) f.get(null);
            if (hook != null) {
                Runtime.getRuntime().removeShutdownHook(hook);
                f.set(null, null);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("CanalMQStarter's shutdown hook is not reachable", e);
        }
    }

    /**
     * Stops a dropped destination's MQ worker and closes its producer. The close waits for the
     * records the producer still holds (up to delivery.timeout.ms when their topic was deleted), so
     * it runs last, after the destination's name is free again.
     */
    private static void closeMqStarter(String name, CanalMQStarter s) {
        if (s == null) return;
        try {
            s.stopDestination(name);
            s.destroy();
        } catch (RuntimeException e) {
            log.error("## closing the MQ producer of " + name, e);
        }
    }

    private void startDestination(String name) throws Exception {
        JSONObject c = configs.get(name);
        if ("kafka".equals(c.getString("mode"))) ensureTopic(c.getString("topic"), c.getInteger("partitionsNum"));
        if (zkclientx != null) {
            // CanalController.start(): the HA monitor starts the instance if it wins `running`
            ServerRunningMonitor monitor = ServerRunningMonitors.getRunningMonitor(name);
            if (!monitor.isStart()) monitor.start();
            log.info("## destination {} registered in ZooKeeper {}: {}", name, zkServers, c.toJSONString());
            return;
        }
        activate(name);
        log.info("## destination {} started: {}", name, c.toJSONString());
    }

    /** Starts the instance (and its MQ worker): at once standalone, on election in cluster mode. */
    private void activate(String name) {
        JSONObject c = configs.get(name);
        embedded.start(name);
        if (c != null && "kafka".equals(c.getString("mode"))) {
            mqStarter(name, c.getBooleanValue("flatMessage"), c.getIntValue("batchSize", 50)).startDestination(name);
        }
    }

    // ---------------------------------------------------------------- cluster mode

    /**
     * canal 1.1.7 CanalController's constructor with {@code canal.zkServers} set: the system
     * nodes, this server's {@link ServerRunningData} ({@code ip:port}) and a computing map of
     * {@link ServerRunningMonitor}s whose listener starts/stops the instance on election and
     * keeps the EPHEMERAL cluster node (re-created on a new ZooKeeper session).
     */
    private void initCluster() {
        zkclientx = zkSessionTimeoutMs == null
            ? ZkClientx.getZkClient(zkServers)
            : new ZkClientx(zkServers, zkSessionTimeoutMs, 30_000);
        zkclientx.createPersistent(ZookeeperPathUtils.DESTINATION_ROOT_NODE, true);
        zkclientx.createPersistent(ZookeeperPathUtils.CANAL_CLUSTER_ROOT_NODE, true);
        ServerRunningData serverData = new ServerRunningData(ip + ":" + port);
        ServerRunningMonitors.setServerData(serverData);
        ServerRunningMonitors.setRunningMonitors(com.google.common.collect.MigrateMap.makeComputingMap(
            (com.google.common.base.Function<String, ServerRunningMonitor>) destination -> {
                ServerRunningMonitor monitor = new ServerRunningMonitor(serverData);
                monitor.setDestination(destination);
                monitor.setListener(new ServerRunningListener() {
                    public void processActiveEnter() {
                        log.info("## {} is now the running server of {}", ip + ":" + port, destination);
                        activate(destination);
                    }

                    public void processActiveExit() {
                        CanalMQStarter s = mqStarters.get(destination);
                        if (s != null) s.stopDestination(destination);
                        embedded.stop(destination);
                    }

                    public void processStart() {
                        String path = ZookeeperPathUtils.getDestinationClusterNode(destination, ip + ":" + port);
                        initCid(path);
                        zkclientx.subscribeStateChanges(new IZkStateListener() {
                            public void handleStateChanged(KeeperState state) {}

                            public void handleNewSession() {
                                initCid(path);
                            }

                            public void handleSessionEstablishmentError(Throwable error) {
                                log.error("failed to connect to zookeeper", error);
                            }
                        });
                    }

                    public void processStop() {
                        zkclientx.delete(ZookeeperPathUtils.getDestinationClusterNode(destination, ip + ":" + port));
                    }
                });
                monitor.setZkClient(zkclientx);
                monitor.init();
                return monitor;
            }));
        log.info("## cluster mode: ZooKeeper {}, this server {}:{}", zkServers, ip, port);
    }

    /** CanalController.initCid: this server's EPHEMERAL node under the destination's cluster. */
    private void initCid(String path) {
        try {
            zkclientx.createEphemeral(path);
        } catch (ZkNoNodeException e) {
            zkclientx.createPersistent(path.substring(0, path.lastIndexOf('/')), true);
            zkclientx.createEphemeral(path);
        } catch (ZkNodeExistsException e) {
            // ours from before
        }
    }

    /**
     * Stops a destination's MQ worker and takes its instance out of the server at once (TCP clients
     * are refused from then on); the instance itself stops in the background and its meta files
     * are deleted after that. canal's parser stop joins the dump thread, which sits in a blocking
     * read of the binlog connection until the next binlog event or heartbeat arrives.
     */
    private void stopDestination(String name) {
        if (zkclientx != null) {
            ServerRunningMonitor monitor = ServerRunningMonitors.getRunningMonitors().remove(name);
            if (monitor != null && monitor.isStart()) {
                stopping.add(name);
                stopper.execute(() -> {
                    CanalMQStarter mq = null;
                    try {
                        monitor.stop(); // releases `running` (processActiveExit stops the instance)
                        mq = mqStarters.remove(name);
                        deleteMeta(name);
                        log.info("## destination {} stopped and released in ZooKeeper", name);
                    } catch (Exception e) {
                        log.error("## stopping destination " + name, e);
                    } finally {
                        stopping.remove(name);
                    }
                    closeMqStarter(name, mq);
                });
            }
            return;
        }
        CanalMQStarter mq = mqStarters.remove(name);
        if (mq != null) mq.stopDestination(name);
        CanalInstance instance = removeInstance(name);
        stopping.add(name);
        stopper.execute(() -> {
            try {
                Thread.sleep(300); // the MQ worker leaves its getWithoutAck (100 ms timeout)
                if (instance != null && instance.isStart()) instance.stop();
                deleteMeta(name);
                log.info("## destination {} stopped", name);
            } catch (Exception e) {
                log.error("## stopping destination " + name, e);
            } finally {
                stopping.remove(name);
            }
            closeMqStarter(name, mq);
        });
    }

    private void ensureTopic(String topic, Integer partitions) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
        try (AdminClient admin = AdminClient.create(p)) {
            if (admin.listTopics().names().get().contains(topic)) return;
            admin.createTopics(List.of(new NewTopic(topic, partitions == null ? 1 : partitions, (short) 1)))
                .all().get();
            log.info("## created Kafka topic {} ({} partition(s))", topic, partitions == null ? 1 : partitions);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
    }

    /** SHOW MASTER STATUS on the source, as the canal user (REPLICATION CLIENT). */
    private EntryPosition masterPosition(String master, String user, String password) throws Exception {
        String url = "jdbc:mysql://" + master + "/?useSSL=false&connectTimeout=5000&socketTimeout=10000";
        try (Connection conn = DriverManager.getConnection(url, user, password);
             Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
            if (!rs.next()) throw new IllegalStateException("SHOW MASTER STATUS returned nothing (binlog off?)");
            return new EntryPosition(rs.getString(1), rs.getLong(2));
        }
    }

    // ---------------------------------------------------------------- persistence

    private void saveDestinations() throws IOException {
        JSONArray all = new JSONArray();
        synchronized (configs) {
            all.addAll(configs.values());
        }
        Path tmp = destinationsFile.resolveSibling("destinations.json.tmp");
        Files.writeString(tmp, all.toJSONString(JSONWriter.Feature.PrettyFormat));
        Files.move(tmp, destinationsFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** After a restart: serve the same destinations; each resumes from its saved meta cursor. */
    private void restoreDestinations() {
        if (!Files.exists(destinationsFile)) return;
        try {
            JSONArray all = JSON.parseArray(Files.readString(destinationsFile));
            for (int i = 0; i < all.size(); i++) {
                JSONObject c = all.getJSONObject(i);
                configs.put(c.getString("name"), c);
                nextCanalId = Math.max(nextCanalId, c.getLongValue("canalId") + 1);
            }
            for (String name : new ArrayList<>(configs.keySet())) {
                try {
                    startDestination(name);
                } catch (Exception e) {
                    log.error("## could not restore destination " + name, e);
                }
            }
        } catch (Exception e) {
            log.error("## could not read " + destinationsFile, e);
        }
    }

    private void deleteMeta(String name) throws IOException {
        Path dir = dataDir.resolve(name);
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            if (path.equals("/health") && method.equals("GET")) {
                JSONObject r = new JSONObject();
                r.put("ok", true);
                r.put("canal", "1.1.7");
                r.put("tcp", ip + ":" + port);
                r.put("kafka", kafka);
                r.put("mysql", mysql);
                r.put("zk", zkServers.isEmpty() ? null : zkServers);
                synchronized (configs) {
                    r.put("destinations", new ArrayList<>(configs.keySet()));
                }
                reply(ex, 200, r);
            } else if (path.equals("/auth")) {
                auth(ex, method);
            } else if (path.startsWith("/destinations/")) {
                String name = path.substring("/destinations/".length());
                if (!NAME.matcher(name).matches()) {
                    reply(ex, 400, error("bad destination name: " + name));
                    return;
                }
                switch (method) {
                    case "GET" -> get(ex, name);
                    case "PUT" -> put(ex, name);
                    case "DELETE" -> delete(ex, name);
                    default -> reply(ex, 405, error("method " + method));
                }
            } else if (path.equals("/destinations") && method.equals("GET")) {
                JSONArray all = new JSONArray();
                synchronized (configs) {
                    for (String n : configs.keySet()) all.add(status(n));
                }
                reply(ex, 200, all);
            } else {
                reply(ex, 404, error("no route " + method + " " + path));
            }
        } catch (Exception e) {
            log.error("control request failed", e);
            reply(ex, 500, error(e.toString()));
        } finally {
            ex.close();
        }
    }

    private synchronized void put(HttpExchange ex, String name) throws Exception {
        JSONObject req;
        try {
            req = JSON.parseObject(readBody(ex));
        } catch (Exception e) {
            reply(ex, 400, error("body is not a JSON object: " + e.getMessage()));
            return;
        }
        if (req == null) req = new JSONObject();
        String mode = req.getString("mode") == null ? "tcp" : req.getString("mode");
        if (!mode.equals("tcp") && !mode.equals("kafka")) {
            reply(ex, 400, error("mode must be tcp or kafka"));
            return;
        }
        JSONObject c = new JSONObject();
        c.put("name", name);
        c.put("mode", mode);
        c.put("filter", req.getString("filter") == null ? ".*\\..*" : req.getString("filter"));
        c.put("blackFilter", req.containsKey("blackFilter") ? req.getString("blackFilter") : "mysql\\.slave_.*");
        c.put("master", req.getString("master") == null ? mysql : req.getString("master"));
        c.put("dbUsername", req.getString("dbUsername") == null ? mysqlUser : req.getString("dbUsername"));
        c.put("dbPassword", req.getString("dbPassword") == null ? mysqlPassword : req.getString("dbPassword"));
        if (mode.equals("kafka")) {
            c.put("flatMessage", req.containsKey("flatMessage") ? req.getBooleanValue("flatMessage") : true);
            c.put("topic", req.getString("topic") == null ? name : req.getString("topic"));
            c.put("partition", req.containsKey("partition") ? req.getInteger("partition") : Integer.valueOf(0));
            c.put("partitionsNum", req.getInteger("partitionsNum"));
            c.put("partitionHash", req.getString("partitionHash"));
            c.put("dynamicTopic", req.getString("dynamicTopic"));
            c.put("batchSize", req.containsKey("batchSize") ? req.getInteger("batchSize") : Integer.valueOf(50));
        }
        JSONObject existing = configs.get(name);
        if (existing != null) {
            JSONObject same = existing.clone();
            for (String k : List.of("canalId", "slaveId", "journalName", "position", "timestamp", "createdAt")) {
                if (!req.containsKey(k)) same.remove(k);
            }
            JSONObject asked = c.clone();
            for (String k : List.of("journalName", "position", "timestamp")) {
                if (req.containsKey(k)) asked.put(k, req.get(k));
            }
            if (same.equals(asked)) {
                reply(ex, 200, status(name));
            } else {
                JSONObject err = error("destination " + name + " exists with another config; DELETE it first");
                err.put("existing", existing);
                reply(ex, 409, err);
            }
            return;
        }
        if (req.getString("journalName") != null || req.getLong("timestamp") != null) {
            c.put("journalName", req.getString("journalName"));
            c.put("position", req.getLong("position"));
            c.put("timestamp", req.getLong("timestamp"));
        } else {
            EntryPosition pos = masterPosition(c.getString("master"), c.getString("dbUsername"), c.getString("dbPassword"));
            c.put("journalName", pos.getJournalName());
            c.put("position", pos.getPosition());
            c.put("timestamp", null);
        }
        long id = nextCanalId++;
        c.put("canalId", id);
        // Distinct slave ids: two binlog dumps with one server_id make the server drop one of them.
        c.put("slaveId", req.getLongValue("slaveId", 10000 + id + 100 * (ProcessHandle.current().pid() % 1000)));
        c.put("createdAt", System.currentTimeMillis());
        if (stopping.contains(name)) {
            reply(ex, 409, error("destination " + name + " is still stopping; retry shortly"));
            return;
        }
        // An instance of an earlier destination of this name can still sit in canal's instance map
        // (a client's subscribe during the drop recreated it): embedded.start would return it and
        // serve the old filter and position (seen: an old "example" dumping from binlog position 4).
        if (zkclientx == null) {
            CanalInstance stale = removeInstance(name);
            if (stale != null) {
                if (stale.isStart()) stale.stop();
                log.warn("## destination {}: removed a stale instance left from an earlier one", name);
            }
        }
        deleteMeta(name); // a re-created name starts from its new position, not an old cursor
        configs.put(name, c);
        try {
            startDestination(name);
        } catch (Exception e) {
            configs.remove(name);
            stopDestination(name);
            throw e;
        }
        saveDestinations();
        reply(ex, 201, status(name));
    }

    private synchronized void delete(HttpExchange ex, String name) throws Exception {
        if (!configs.containsKey(name)) {
            reply(ex, 404, error("no destination " + name));
            return;
        }
        configs.remove(name);
        saveDestinations();
        stopDestination(name);
        JSONObject r = new JSONObject();
        r.put("deleted", name);
        reply(ex, 200, r);
        log.info("## destination {} deleted", name);
    }

    private void get(HttpExchange ex, String name) throws IOException {
        if (!configs.containsKey(name)) {
            reply(ex, 404, error("no destination " + name));
            return;
        }
        reply(ex, 200, status(name));
    }

    /** Config plus what canal's instance reports: running, store head, MQ cursor, parser error. */
    private JSONObject status(String name) {
        JSONObject c = configs.get(name);
        JSONObject r = c == null ? new JSONObject() : c.clone();
        r.remove("dbPassword");
        boolean running = embedded.isStart(name);
        r.put("running", running);
        if (running) {
            CanalInstance inst = embedded.getCanalInstances().get(name);
            r.put("storeLatest", position(inst.getEventStore().getLatestPosition()));
            r.put("storeFirst", position(inst.getEventStore().getFirstPosition()));
            try {
                r.put("cursor", position(inst.getMetaManager().getCursor(new ClientIdentity(name, MQ_CLIENT_ID, ""))));
            } catch (Exception e) {
                r.put("cursor", null);
            }
            CanalEventParser parser = inst.getEventParser();
            if (parser instanceof AbstractEventParser aep) {
                try {
                    r.put("parsed", position(aep.getLogPositionManager().getLatestIndexBy(name)));
                } catch (Exception e) {
                    r.put("parsed", null);
                }
                Throwable err = aep.getException();
                r.put("parserError", err == null ? null : err.toString());
            }
        }
        return r;
    }

    private static JSONObject position(Position p) {
        if (!(p instanceof LogPosition lp) || lp.getPostion() == null) return null;
        EntryPosition e = lp.getPostion();
        JSONObject r = new JSONObject();
        r.put("journalName", e.getJournalName());
        r.put("position", e.getPosition());
        r.put("timestamp", e.getTimestamp());
        return r;
    }

    private void auth(HttpExchange ex, String method) throws Exception {
        if (method.equals("DELETE")) {
            embedded.setUser(null);
            embedded.setPasswd(null);
            reply(ex, 200, new JSONObject());
            return;
        }
        if (!method.equals("PUT")) {
            reply(ex, 405, error("method " + method));
            return;
        }
        JSONObject req = JSON.parseObject(readBody(ex));
        String user = req.getString("user");
        String password = req.getString("password");
        if (user == null || password == null) {
            reply(ex, 400, error("user and password are required"));
            return;
        }
        // canal.passwd holds hex(SHA1(SHA1(password))), MySQL's native password hash without '*'
        // (canal.properties: canal.passwd = E3619321C1A937C46A0D8BD1DAC39F93B27D4458 for "canal").
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        byte[] h = sha1.digest(sha1.digest(password.getBytes(StandardCharsets.UTF_8)));
        embedded.setUser(user);
        embedded.setPasswd(HexFormat.of().withUpperCase().formatHex(h));
        JSONObject r = new JSONObject();
        r.put("user", user);
        reply(ex, 200, r);
    }

    private static String readBody(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static JSONObject error(String msg) {
        JSONObject r = new JSONObject();
        r.put("error", msg);
        return r;
    }

    private static void reply(HttpExchange ex, int code, Object body) throws IOException {
        byte[] bytes = JSON.toJSONString(body, JSONWriter.Feature.WriteNulls).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
