package flinkdeck.gateway;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.util.EnvironmentInformation;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SQL Gateway REST endpoint on the JDK's HTTP server: the versioned URLs ({@code /v1} ...,
 * or none for the default version), the handlers of each endpoint, and Flink's REST error
 * conventions (404 {@code Not found: <uri>}, 400 for unparsable parameters or bodies, 500 with the
 * server-side stack trace).
 */
final class RestServer {

    private static final Logger LOG = LoggerFactory.getLogger(RestServer.class);

    private final GatewayService service;
    private final HttpServer server;
    private final ExecutorService workers;
    /** Stable API versions, oldest first; the last is the default. */
    private final List<String> versions;

    private final List<Route> routes = new ArrayList<>();

    RestServer(GatewayService service, String host, int port, List<String> versions)
            throws IOException {
        this.service = service;
        this.versions = versions;
        AtomicInteger threads = new AtomicInteger();
        this.workers =
                Executors.newFixedThreadPool(
                        16,
                        r -> {
                            Thread t = new Thread(r, "sql-gateway-rest-" + threads.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        this.server = HttpServer.create(new InetSocketAddress(host, port), 128);
        this.server.createContext("/", this::serve);
        this.server.setExecutor(workers);
        defineRoutes();
    }

    void start() {
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    void stop() {
        server.stop(0);
        workers.shutdownNow();
    }

    // ------------------------------------------------------------------------------------------
    // Endpoints
    // ------------------------------------------------------------------------------------------

    private void defineRoutes() {
        route("GET", "/api_versions", 1, "util.GetApiVersionHandler", 56, null, this::apiVersions);
        route("GET", "/info", 1, "util.GetInfoHandler", 57, null, r -> info());
        route("POST", "/sessions", 1, "session.OpenSessionHandler", 68, "OpenSessionRequestBody", this::openSession);
        route("GET", "/sessions/:session_handle", 1, "session.GetSessionConfigHandler", 66, null, this::sessionConfig);
        route("DELETE", "/sessions/:session_handle", 1, "session.CloseSessionHandler", 64, null, this::closeSession);
        route("POST", "/sessions/:session_handle/heartbeat", 1, "session.TriggerSessionHeartbeatHandler", 66, null, this::heartbeat);
        route("POST", "/sessions/:session_handle/configure-session", 2, "session.ConfigureSessionHandler", 67, "ConfigureSessionRequestBody", this::configureSession);
        route("GET", "/sessions/:session_handle/complete-statement", 2, "statement.CompleteStatementHandler", 65, "CompleteStatementRequestBody", this::completeStatement);
        route("POST", "/sessions/:session_handle/statements", 1, "statement.ExecuteStatementHandler", 75, "ExecuteStatementRequestBody", this::executeStatement);
        route("GET", "/sessions/:session_handle/operations/:operation_handle/status", 1, "operation.GetOperationStatusHandler", 72, null, this::operationStatus);
        route("POST", "/sessions/:session_handle/operations/:operation_handle/cancel", 1, "operation.CancelOperationHandler", 72, null, this::cancelOperation);
        route("DELETE", "/sessions/:session_handle/operations/:operation_handle/close", 1, "operation.CloseOperationHandler", 72, null, this::closeOperation);
        route("GET", "/sessions/:session_handle/operations/:operation_handle/result/:token", 1, "statement.FetchResultsHandler", 89, null, this::fetchResults);
    }

    private JsonNode apiVersions(Request r) {
        ObjectNode body = JsonEncoding.object();
        ArrayNode list = body.putArray("versions");
        versions.forEach(list::add);
        return body;
    }

    private JsonNode info() {
        ObjectNode body = JsonEncoding.object();
        body.put("productName", "Apache Flink");
        body.put("version", EnvironmentInformation.getVersion());
        return body;
    }

    private JsonNode openSession(Request r) {
        // the session name is accepted and, as in the gateway, not used for anything else
        Map<String, String> properties = r.stringMap("properties");
        UUID id = service.openSession(properties == null ? new HashMap<>() : properties);
        ObjectNode body = JsonEncoding.object();
        body.put("sessionHandle", id.toString());
        return body;
    }

    private JsonNode sessionConfig(Request r) {
        Map<String, String> config = asRestError(() -> service.getSessionConfig(r.session()));
        ObjectNode body = JsonEncoding.object();
        ObjectNode properties = body.putObject("properties");
        config.forEach(properties::put);
        return body;
    }

    private JsonNode closeSession(Request r) {
        asRestError(
                () -> {
                    service.closeSession(r.session());
                    return null;
                });
        ObjectNode body = JsonEncoding.object();
        body.put("status", "CLOSED");
        return body;
    }

    private JsonNode heartbeat(Request r) {
        // the session is touched when its configuration is read
        asRestError(() -> service.getSessionConfig(r.session()));
        return JsonEncoding.object();
    }

    private JsonNode configureSession(Request r) {
        String statement = r.string("statement");
        Long timeout = r.number("executionTimeout");
        service.configureSession(r.session(), statement, timeout == null ? 0L : timeout);
        return JsonEncoding.object();
    }

    private JsonNode completeStatement(Request r) {
        String statement = r.string("statement");
        Long position = r.number("position");
        List<String> candidates =
                service.completeStatement(
                        r.session(), statement, position == null ? 0 : position.intValue());
        ObjectNode body = JsonEncoding.object();
        ArrayNode list = body.putArray("candidates");
        candidates.forEach(list::add);
        return body;
    }

    private JsonNode executeStatement(Request r) {
        String statement = r.string("statement");
        Long timeout = r.number("executionTimeout");
        Map<String, String> executionConfig = r.stringMap("executionConfig");
        UUID operation =
                service.executeStatement(
                        r.session(),
                        statement,
                        timeout == null ? 0L : timeout,
                        executionConfig == null
                                ? new Configuration()
                                : Configuration.fromMap(executionConfig));
        ObjectNode body = JsonEncoding.object();
        body.put("operationHandle", operation.toString());
        return body;
    }

    private JsonNode operationStatus(Request r) {
        GatewayOperation.Status status =
                asRestError(() -> service.operationStatus(r.session(), r.operation()));
        return statusBody(status.name());
    }

    private JsonNode cancelOperation(Request r) {
        GatewayOperation.Status status =
                asRestError(
                        () -> {
                            service.cancelOperation(r.session(), r.operation());
                            return service.operationStatus(r.session(), r.operation());
                        });
        return statusBody(status.name());
    }

    private JsonNode closeOperation(Request r) {
        asRestError(
                () -> {
                    service.closeOperation(r.session(), r.operation());
                    return null;
                });
        return statusBody("CLOSED");
    }

    private static JsonNode statusBody(String status) {
        ObjectNode body = JsonEncoding.object();
        body.put("status", status);
        return body;
    }

    private JsonNode fetchResults(Request r) {
        UUID session = r.session();
        UUID operation = r.operation();
        long token = r.token();
        // V1 has no rowFormat parameter; later versions default to JSON when it is left out
        String rowFormat = r.version >= 2 ? r.rowFormat() : "JSON";
        ResultPage page;
        try {
            page = service.fetchResults(session, operation, token);
        } catch (Exception e) {
            throw ServerErrors.wrapInGatewayException(e, ServerErrors.handlerFrames());
        }
        String next = null;
        if (page.nextToken != null) {
            next = String.format(
                    "/v%d/sessions/%s/operations/%s/result/%d", r.version, session, operation, page.nextToken);
            if (r.version >= 2) {
                next += "?rowFormat=" + rowFormat;
            }
        }
        Configuration sessionConfig =
                page.type == ResultPage.Type.NOT_READY
                        ? null
                        : service.sessionConfiguration(session);
        try {
            return JsonEncoding.fetchResponse(page, rowFormat, next, sessionConfig);
        } catch (RuntimeException e) {
            LOG.error("Internal server error. Could not map response to JSON.", e);
            throw new UnmappableResponse();
        }
    }

    /** What the session and operation handlers do with a service failure: a 500 RestHandlerException. */
    private static <T> T asRestError(ServiceCall<T> call) {
        try {
            return call.run();
        } catch (ServerErrors.Named e) {
            if (!ServerErrors.SQL_GATEWAY_EXCEPTION.equals(e.className)) {
                throw e;
            }
            throw ServerErrors.restHandlerException(
                    e.getMessage(), 500, e, ServerErrors.handlerFrames());
        }
    }

    private interface ServiceCall<T> {
        T run();
    }

    /** The response body could not be written as JSON. */
    private static final class UnmappableResponse extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    // ------------------------------------------------------------------------------------------
    // Routing
    // ------------------------------------------------------------------------------------------

    private interface Action {
        JsonNode handle(Request request);
    }

    private static final class Route {
        final String method;
        final String[] pattern;
        final int minVersion;
        final String handler;
        final int line;
        final String requestClass;
        final Action action;

        Route(String method, String[] pattern, int minVersion, String handler, int line, String requestClass, Action action) {
            this.method = method;
            this.pattern = pattern;
            this.minVersion = minVersion;
            this.handler = handler;
            this.line = line;
            this.requestClass = requestClass;
            this.action = action;
        }

        /** The path parameters, or null when the path does not match. */
        Map<String, String> match(List<String> segments) {
            if (segments.size() != pattern.length) {
                return null;
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 0; i < pattern.length; i++) {
                if (pattern[i].startsWith(":")) {
                    params.put(pattern[i].substring(1), segments.get(i));
                } else if (!pattern[i].equals(segments.get(i))) {
                    return null;
                }
            }
            return params;
        }
    }

    private void route(
            String method,
            String path,
            int minVersion,
            String handler,
            int line,
            String requestClass,
            Action action) {
        String[] pattern = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
        routes.add(new Route(method, pattern, minVersion, handler, line, requestClass, action));
    }

    private void serve(HttpExchange exchange) {
        String uri = exchange.getRequestURI().toString();
        try {
            byte[] raw = readAll(exchange.getRequestBody());
            List<String> segments = new ArrayList<>();
            for (String s : exchange.getRequestURI().getPath().split("/")) {
                if (!s.isEmpty()) {
                    segments.add(s);
                }
            }
            int version = versions.size();
            if (!segments.isEmpty()) {
                String first = segments.get(0);
                for (int i = 0; i < versions.size(); i++) {
                    if (versions.get(i).toLowerCase().equals(first)) {
                        version = i + 1;
                        segments.remove(0);
                        break;
                    }
                }
            }
            Route route = null;
            Map<String, String> params = null;
            for (Route candidate : routes) {
                if (!candidate.method.equals(exchange.getRequestMethod()) || version < candidate.minVersion) {
                    continue;
                }
                params = candidate.match(segments);
                if (params != null) {
                    route = candidate;
                    break;
                }
            }
            if (route == null) {
                respond(exchange, 404, errors(List.of("Not found: " + uri)));
                return;
            }
            Request request =
                    new Request(version, params, query(exchange.getRequestURI().getRawQuery()), route.requestClass);
            request.parseBody(raw);
            request.resolveParameters();
            ServerErrors.enterHandler(route.handler, route.line);
            JsonNode body;
            try {
                body = route.action.handle(request);
            } finally {
                ServerErrors.leaveHandler();
            }
            respond(exchange, 200, JsonEncoding.MAPPER.writeValueAsBytes(body));
        } catch (UnmappableResponse e) {
            respond(exchange, 500, errors(List.of("Internal server error. Could not map response to JSON.")));
        } catch (Throwable t) {
            if (!(t instanceof ServerErrors.Named) || ((ServerErrors.Named) t).httpStatus == 0) {
                LOG.error("Unhandled exception.", t);
            }
            ServerErrors.ErrorResponse error = ServerErrors.toResponse(t);
            respond(exchange, error.status, errors(error.errors));
        } finally {
            exchange.close();
        }
    }

    private static byte[] errors(List<String> errors) {
        ObjectNode body = JsonEncoding.object();
        ArrayNode list = body.putArray("errors");
        errors.forEach(list::add);
        try {
            return JsonEncoding.MAPPER.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) {
        try {
            exchange.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
            exchange.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (IOException e) {
            LOG.warn("The connection was unexpectedly closed by the client.", e);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (InputStream body = in) {
            return body.readAllBytes();
        }
    }

    private static Map<String, List<String>> query(String rawQuery) {
        Map<String, List<String>> out = new HashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return out;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------------------------------
    // A request: its version, parameters and body
    // ------------------------------------------------------------------------------------------

    private static final class Request {
        final int version;
        private final Map<String, String> pathParams;
        private final Map<String, List<String>> queryParams;
        private final String requestClass;
        private JsonNode body;

        private UUID session;
        private UUID operation;
        private Long token;
        private String rowFormat;

        Request(int version, Map<String, String> pathParams, Map<String, List<String>> queryParams, String requestClass) {
            this.version = version;
            this.pathParams = pathParams;
            this.queryParams = queryParams;
            this.requestClass = requestClass;
        }

        /** Reads the body as the request class would be read (an empty body is {@code {}}). */
        void parseBody(byte[] raw) {
            if (raw.length == 0) {
                body = JsonEncoding.object();
                return;
            }
            try {
                body = JsonEncoding.MAPPER.readTree(raw);
            } catch (IOException e) {
                throw ServerErrors.badBody(requestClass == null ? "EmptyRequestBody" : requestClass, e);
            }
            if (body == null || !body.isObject()) {
                throw ServerErrors.badBody(
                        requestClass == null ? "EmptyRequestBody" : requestClass,
                        mismatch("Cannot deserialize value of type `" + (requestClass == null ? "EmptyRequestBody" : requestClass) + "` from " + describe(body)));
            }
            if (requestClass == null) {
                return;
            }
            // check the declared fields' types now, as the request class's deserializer would
            Iterator<Map.Entry<String, JsonNode>> fields = body.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                JsonNode value = field.getValue();
                switch (field.getKey()) {
                    case "statement":
                    case "sessionName":
                        if (!value.isNull() && !value.isValueNode()) {
                            throw badField(field.getKey(), "java.lang.String", value);
                        }
                        break;
                    case "executionTimeout":
                    case "position":
                        if (!value.isNull() && !value.isIntegralNumber() && !(value.isTextual() && value.asText().matches("-?\\d+"))) {
                            throw badField(field.getKey(), "java.lang.Long", value);
                        }
                        break;
                    case "properties":
                    case "executionConfig":
                        if (!value.isNull() && !value.isObject()) {
                            throw badField(field.getKey(), "java.util.Map<java.lang.String,java.lang.String>", value);
                        }
                        if (value.isObject()) {
                            value.fields().forEachRemaining(e -> {
                                if (!e.getValue().isNull() && !e.getValue().isValueNode()) {
                                    throw badField(field.getKey(), "java.lang.String", e.getValue());
                                }
                            });
                        }
                        break;
                    default:
                        break;
                }
            }
        }

        private RuntimeException badField(String field, String type, JsonNode value) {
            return ServerErrors.badBody(
                    requestClass,
                    mismatch(String.format(
                            "Cannot deserialize value of type `%s` from %s (through reference chain: org.apache.flink.table.gateway.rest.message.%s[\"%s\"])",
                            type, describe(value), requestClass, field)));
        }

        private static String describe(JsonNode value) {
            if (value == null || value.isMissingNode()) {
                return "No content";
            } else if (value.isArray()) {
                return "Array value (token `JsonToken.START_ARRAY`)";
            } else if (value.isObject()) {
                return "Object value (token `JsonToken.START_OBJECT`)";
            } else if (value.isTextual()) {
                return "String value (token `JsonToken.VALUE_STRING`)";
            }
            return value.getNodeType() + " value";
        }

        private static Throwable mismatch(String message) {
            return new ServerErrors.Named(
                    ServerErrors.MISMATCHED_INPUT_EXCEPTION,
                    message,
                    null,
                    0,
                    ServerErrors.frames(
                            "org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.exc.MismatchedInputException.from:63",
                            "org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationContext.reportInputMismatch:1781",
                            "org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader:161"));
        }

        /** Resolves the path and query parameters, as Flink's HandlerRequest does (400 if not). */
        void resolveParameters() {
            String sh = pathParams.get("session_handle");
            if (sh != null) {
                session = uuid("session_handle", sh);
            }
            String oh = pathParams.get("operation_handle");
            if (oh != null) {
                operation = uuid("operation_handle", oh);
            }
            String t = pathParams.get("token");
            if (t != null) {
                try {
                    token = Long.valueOf(t);
                } catch (NumberFormatException e) {
                    throw ServerErrors.badParameter("path", "token", t);
                }
            }
            List<String> formats = queryParams.get("rowFormat");
            if (version >= 2 && formats != null && !formats.isEmpty()) {
                String joined = String.join(",", formats);
                String format = joined.toUpperCase(Locale.ROOT);
                if (!format.equals("JSON") && !format.equals("PLAIN_TEXT")) {
                    throw ServerErrors.badParameter("query", "rowFormat", joined);
                }
                rowFormat = format;
            }
        }

        private static UUID uuid(String key, String value) {
            try {
                return UUID.fromString(value);
            } catch (IllegalArgumentException e) {
                throw ServerErrors.badParameter("path", key, value);
            }
        }

        UUID session() {
            return session;
        }

        UUID operation() {
            return operation;
        }

        long token() {
            return token;
        }

        String rowFormat() {
            return rowFormat == null ? "JSON" : rowFormat;
        }

        String string(String field) {
            JsonNode value = body.get(field);
            return value == null || value.isNull() ? null : value.asText();
        }

        Long number(String field) {
            JsonNode value = body.get(field);
            return value == null || value.isNull() ? null : value.asLong();
        }

        Map<String, String> stringMap(String field) {
            JsonNode value = body.get(field);
            if (value == null || value.isNull()) {
                return null;
            }
            Map<String, String> out = new HashMap<>();
            value.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
            return out;
        }
    }
}
