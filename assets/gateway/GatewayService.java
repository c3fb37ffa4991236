package flinkdeck.gateway;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.data.RowData;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The sessions and what can be done with them, as the gateway's SqlGatewayServiceImpl and
 * SessionManagerImpl do it: every call looks the session up (refreshing its idle clock) and wraps
 * a failure as "Failed to &lt;call&gt;."; idle sessions are closed by a periodic check.
 */
final class GatewayService {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayService.class);

    private final Configuration defaults;
    private final long idleTimeoutMs;
    private final Map<UUID, GatewaySession> sessions = new ConcurrentHashMap<>();
    private final ScheduledExecutorService expiry;

    GatewayService(Configuration defaults, long idleTimeoutMs, long checkIntervalMs) {
        this.defaults = defaults;
        this.idleTimeoutMs = idleTimeoutMs;
        if (idleTimeoutMs > 0 && checkIntervalMs > 0) {
            expiry =
                    Executors.newSingleThreadScheduledExecutor(
                            r -> {
                                Thread t = new Thread(r, "session-expiry");
                                t.setDaemon(true);
                                return t;
                            });
            expiry.scheduleAtFixedRate(
                    this::closeExpired, checkIntervalMs, checkIntervalMs, TimeUnit.MILLISECONDS);
        } else {
            expiry = null;
        }
    }

    private void closeExpired() {
        long now = System.currentTimeMillis();
        for (GatewaySession session : sessions.values()) {
            if (now - session.lastAccess() > idleTimeoutMs) {
                LOG.info("Session {} is expired, closing it...", session.id);
                sessions.remove(session.id);
                session.close();
            }
        }
    }

    void close() {
        if (expiry != null) {
            expiry.shutdownNow();
        }
        for (GatewaySession session : sessions.values()) {
            session.close();
        }
        sessions.clear();
    }

    // ------------------------------------------------------------------------------------------
    // Sessions
    // ------------------------------------------------------------------------------------------

    UUID openSession(Map<String, String> properties) {
        try {
            UUID id = UUID.randomUUID();
            sessions.put(id, new GatewaySession(id, defaults, properties));
            LOG.info("Session {} is opened, and the number of current sessions is {}.", id, sessions.size());
            return id;
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to openSession.", t, ServerErrors.serviceFrames("openSession", 85));
        }
    }

    void closeSession(UUID id) {
        try {
            GatewaySession session = session(id, "closeSession", 95);
            sessions.remove(id);
            session.close();
            LOG.info("Session: {} is closed.", id);
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to closeSession.", t, ServerErrors.serviceFrames("closeSession", 98));
        }
    }

    Map<String, String> getSessionConfig(UUID id) {
        try {
            return session(id, "getSessionConfig", 124).conf.toMap();
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to getSessionConfig.",
                    t,
                    ServerErrors.serviceFrames("getSessionConfig", 127));
        }
    }

    /** The session's configuration, for encoding results (the gateway reads it per fetch). */
    Configuration sessionConfiguration(UUID id) {
        return Configuration.fromMap(getSessionConfig(id));
    }

    void configureSession(UUID id, String statement, long executionTimeoutMs) {
        try {
            if (executionTimeoutMs > 0) {
                throw new UnsupportedOperationException(
                        "SqlGatewayService doesn't support timeout mechanism now.");
            }
            GatewaySession session = session(id, "configureSession", 108);
            GatewayOperation operation =
                    session.submitOperation(
                            handle ->
                                    new StatementExecutor(session, new Configuration())
                                            .configureSession(handle, statement));
            operation.awaitTermination();
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to configure session.",
                    t,
                    ServerErrors.serviceFrames("configureSession", 117));
        }
    }

    List<String> completeStatement(UUID id, String statement, int position) {
        try {
            GatewaySession session = session(id, "completeStatement", 337);
            GatewayOperation operation =
                    session.submitOperation(
                            handle ->
                                    new StatementExecutor(session, new Configuration())
                                            .getCompletionHints(statement, position));
            operation.awaitTermination();
            ResultPage page = operation.fetch(0);
            session.closeOperation(operation.id);
            List<String> candidates = new ArrayList<>();
            for (RowData row : page.data) {
                candidates.add(row.getString(0).toString());
            }
            return candidates;
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to get statement completion candidates.",
                    t,
                    ServerErrors.serviceFrames("completeStatement", 352));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Operations
    // ------------------------------------------------------------------------------------------

    UUID executeStatement(
            UUID id, String statement, long executionTimeoutMs, Configuration executionConfig) {
        try {
            if (executionTimeoutMs > 0) {
                throw new UnsupportedOperationException(
                        "SqlGatewayService doesn't support timeout mechanism now.");
            }
            GatewaySession session = session(id, "executeStatement", 216);
            return session.submitOperation(
                            handle ->
                                    new StatementExecutor(session, executionConfig)
                                            .executeStatement(handle, statement))
                    .id;
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to execute statement.",
                    t,
                    ServerErrors.serviceFrames("executeStatement", 223));
        }
    }

    ResultPage fetchResults(UUID id, UUID operation, long token) {
        try {
            return session(id, "fetchResults", 229)
                    .operation(operation, "fetchResults", "fetchResults", 231)
                    .fetch(token);
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to fetchResults.", t, ServerErrors.serviceFrames("fetchResults", 234));
        }
    }

    GatewayOperation.Status operationStatus(UUID id, UUID operation) {
        try {
            return session(id, "getOperationInfo", 181)
                    .operation(operation, "getOperationInfo", "getOperationInfo", 183)
                    .status();
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to getOperationInfo.",
                    t,
                    ServerErrors.serviceFrames("getOperationInfo", 186));
        }
    }

    void cancelOperation(UUID id, UUID operation) {
        try {
            session(id, "cancelOperation", 153)
                    .operation(operation, "cancelOperation", "cancelOperation", 153)
                    .cancel();
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to cancelOperation.",
                    t,
                    ServerErrors.serviceFrames("cancelOperation", 156));
        }
    }

    void closeOperation(UUID id, UUID operation) {
        try {
            session(id, "closeOperation", 163).closeOperation(operation);
        } catch (Throwable t) {
            throw ServerErrors.gatewayException(
                    "Failed to closeOperation.",
                    t,
                    ServerErrors.serviceFrames("closeOperation", 166));
        }
    }

    private GatewaySession session(UUID id, String serviceMethod, int line) {
        GatewaySession session = sessions.get(id);
        if (session == null) {
            String message = String.format("Session '%s' does not exist.", id);
            LOG.warn(message);
            throw ServerErrors.gatewayException(
                    message, null, ServerErrors.sessionLookupFrames(serviceMethod, line));
        }
        session.touch();
        return session;
    }
}
