package flinkdeck.gateway;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.util.EnvironmentInformation;

import java.net.URI;
import java.util.Arrays;
import java.util.List;

/**
 * A stand-in for Flink's SQL Gateway (REST endpoint), for tests on machines without the
 * flink-sql-gateway jar. It speaks the gateway's REST protocol and runs statements with Flink's
 * own TableEnvironment against a remote cluster.
 *
 * <pre>
 * java -Djava.io.tmpdir=DIR -cp CLASSES:$FLINK_HOME/lib/* flinkdeck.gateway.GatewayMain \
 *     --port P --flink-rest http://127.0.0.1:8081 [--host 127.0.0.1]
 *     [--session-idle-timeout-ms N] [--session-check-interval-ms N] [--flink-conf-dir DIR]
 * </pre>
 *
 * <p>Once it serves requests it prints {@code flinkdeck-gateway listening on port P}.
 */
public final class GatewayMain {

    /** {@code sql-gateway.session.idle-timeout}'s default. */
    private static final long DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
    /** {@code sql-gateway.session.check-interval}'s default. */
    private static final long DEFAULT_CHECK_INTERVAL_MS = 60 * 1000;

    private GatewayMain() {}

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 8083;
        String flinkRest = null;
        String confDir = null;
        long idleTimeout = DEFAULT_IDLE_TIMEOUT_MS;
        Long checkInterval = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--host":
                    host = require(args[i], value);
                    break;
                case "--port":
                    port = Integer.parseInt(require(args[i], value));
                    break;
                case "--flink-rest":
                    flinkRest = require(args[i], value);
                    break;
                case "--flink-conf-dir":
                    confDir = require(args[i], value);
                    break;
                case "--session-idle-timeout-ms":
                    idleTimeout = Long.parseLong(require(args[i], value));
                    break;
                case "--session-check-interval-ms":
                    checkInterval = Long.parseLong(require(args[i], value));
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            i++;
        }
        if (flinkRest == null) {
            throw new IllegalArgumentException("--flink-rest http://HOST:PORT is required");
        }
        if (checkInterval == null) {
            // the default check interval, but often enough for a short idle timeout
            checkInterval = Math.max(50, Math.min(DEFAULT_CHECK_INTERVAL_MS, idleTimeout / 4));
        }

        Configuration defaults =
                confDir == null ? new Configuration() : GlobalConfiguration.loadConfiguration(confDir);
        URI rest = URI.create(flinkRest);
        defaults.setString("execution.target", "remote");
        defaults.setString("rest.address", rest.getHost());
        defaults.setString("rest.port", String.valueOf(rest.getPort()));
        defaults.setString("parallelism.default", "1");

        GatewayService service = new GatewayService(defaults, idleTimeout, checkInterval);
        RestServer server = new RestServer(service, host, port, apiVersions());
        server.start();
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    server.stop();
                                    service.close();
                                },
                                "gateway-shutdown"));
        System.out.println("flinkdeck-gateway listening on port " + server.port());
        System.out.flush();
    }

    /** The stable REST API versions of this Flink release: V1..V3 in 1.x, V1..V4 from 2.0. */
    private static List<String> apiVersions() {
        String version = EnvironmentInformation.getVersion();
        int major = Integer.parseInt(version.replaceAll("^(\\d+).*", "$1"));
        return major >= 2 ? Arrays.asList("V1", "V2", "V3", "V4") : Arrays.asList("V1", "V2", "V3");
    }

    private static String require(String flag, String value) {
        if (value == null) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return value;
    }
}
