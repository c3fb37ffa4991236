package flinkdeck.sample;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * flinkdeck sandbox sample job.
 *
 * <p>DataGeneratorSource (rate limited) -> keyBy -> stateful counter (ValueState per key) -> DiscardingSink.
 * Compiles unchanged against Flink 1.20.x and 2.x: it only uses APIs present in both (no ParameterTool,
 * restart strategy and checkpointing set through string configuration keys / enableCheckpointing).
 *
 * <p>Args (all optional, "--key value"): --name, --rate, --parallelism, --keys, --checkpoint-interval-ms,
 * --fail-every-seconds, --restart-attempts, --restart-delay-ms.
 */
public final class SampleJob {

    private static final Logger LOG = LoggerFactory.getLogger(SampleJob.class);

    private static final String USAGE =
            "usage: SampleJob [--name NAME] [--rate N] [--parallelism N] [--keys N]"
                    + " [--checkpoint-interval-ms N] [--fail-every-seconds N]"
                    + " [--restart-attempts N] [--restart-delay-ms N]";

    private SampleJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args);
        String name = opts.getOrDefault("name", "flinkdeck-sample");
        long rate = longArg(opts, "rate", 50, 1);
        long parallelism = longArg(opts, "parallelism", 0, 1);
        long keys = longArg(opts, "keys", 16, 1);
        long checkpointIntervalMs = longArg(opts, "checkpoint-interval-ms", 1000, 10);
        long failEverySeconds = longArg(opts, "fail-every-seconds", 0, 0);
        long restartAttempts = longArg(opts, "restart-attempts", 1000000, 0);
        long restartDelayMs = longArg(opts, "restart-delay-ms", 2000, 0);

        // String keys understood by both Flink 1.20 and 2.x.
        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", Long.toString(restartAttempts));
        conf.setString("restart-strategy.fixed-delay.delay", restartDelayMs + " ms");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.configure(conf, SampleJob.class.getClassLoader());
        env.enableCheckpointing(checkpointIntervalMs);
        if (opts.containsKey("parallelism")) {
            env.setParallelism((int) parallelism);
        }

        DataGeneratorSource<String> source =
                new DataGeneratorSource<>(
                        new KeyGenerator(keys),
                        Long.MAX_VALUE,
                        RateLimiterStrategy.perSecond(rate),
                        Types.STRING);

        env.fromSource(source, WatermarkStrategy.noWatermarks(), "sample-source")
                .uid("flinkdeck-sample-source")
                .keyBy(new IdentityKey())
                .map(new CountPerKey(failEverySeconds))
                .uid("flinkdeck-sample-counter")
                .name("count-per-key")
                .sinkTo(new DiscardingSink<String>())
                .uid("flinkdeck-sample-sink")
                .name("discard");

        LOG.info(
                "flinkdeck sample: submitting '{}' rate={}/s keys={} checkpoint={}ms failEvery={}s"
                        + " restartAttempts={} restartDelay={}ms",
                name, rate, keys, checkpointIntervalMs, failEverySeconds, restartAttempts,
                restartDelayMs);
        env.execute(name);
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; " + USAGE);
            }
            String key = a.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for --" + key + "; " + USAGE);
                }
                value = args[++i];
            }
            switch (key) {
                case "name":
                case "rate":
                case "parallelism":
                case "keys":
                case "checkpoint-interval-ms":
                case "fail-every-seconds":
                case "restart-attempts":
                case "restart-delay-ms":
                    out.put(key, value);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option --" + key + "; " + USAGE);
            }
        }
        return out;
    }

    private static long longArg(Map<String, String> opts, String key, long def, long min) {
        String raw = opts.get(key);
        if (raw == null) {
            return def;
        }
        long v;
        try {
            v = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + key + " expects an integer, got '" + raw + "'; " + USAGE);
        }
        if (v < min) {
            throw new IllegalArgumentException("--" + key + " must be >= " + min + ", got " + v);
        }
        return v;
    }

    /** Maps the sequence number to one of {@code keys} keys: "key-0" .. "key-(keys-1)". */
    public static final class KeyGenerator implements GeneratorFunction<Long, String> {
        private static final long serialVersionUID = 1L;
        private final long keys;

        public KeyGenerator(long keys) {
            this.keys = keys;
        }

        @Override
        public String map(Long index) {
            return "key-" + (index % keys);
        }
    }

    /** The record is its own key. */
    public static final class IdentityKey implements KeySelector<String, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(String value) {
            return value;
        }
    }

    /**
     * Counts records per key in ValueState (so a job restored from a savepoint visibly continues its
     * counts) and optionally injects a failure every N seconds of its own running time.
     */
    public static final class CountPerKey extends RichMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(CountPerKey.class);

        private final long failEverySeconds;
        private transient ValueState<Long> count;
        private transient long openedAtMs;
        private transient volatile long maxCount;
        private transient Set<String> seenKeys;

        public CountPerKey(long failEverySeconds) {
            this.failEverySeconds = failEverySeconds;
        }

        @Override
        public void open(OpenContext openContext) throws Exception {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            openedAtMs = System.currentTimeMillis();
            maxCount = 0L;
            seenKeys = new HashSet<>();
            getRuntimeContext()
                    .getMetricGroup()
                    .gauge("flinkdeckMaxCount", (Gauge<Long>) () -> maxCount);
        }

        @Override
        public String map(String key) throws Exception {
            if (failEverySeconds > 0
                    && System.currentTimeMillis() - openedAtMs >= failEverySeconds * 1000L) {
                String msg =
                        "flinkdeck sample: injected failure after " + failEverySeconds + " s"
                                + " (subtask " + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask()
                                + ", attempt " + getRuntimeContext().getTaskInfo().getAttemptNumber()
                                + ")";
                LOG.error(msg);
                throw new RuntimeException(msg);
            }
            Long current = count.value();
            if (seenKeys != null && seenKeys.add(key) && current != null) {
                // First record of this key in this task attempt, yet state exists: it was restored.
                seenKeys = null;
                LOG.info("flinkdeck sample: {} continues from restored count {}", key, current);
            }
            long next = (current == null ? 0L : current) + 1L;
            count.update(next);
            if (next > maxCount) {
                maxCount = next;
            }
            return key + " #" + next;
        }
    }
}
