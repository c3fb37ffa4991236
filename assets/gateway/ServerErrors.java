package flinkdeck.gateway;

import org.apache.flink.util.ExceptionUtils;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Errors in the shape Flink's SQL Gateway reports them.
 *
 * <p>The gateway's own exception classes are not on this classpath, so {@link Named} stands in
 * for them: it prints under the real class name, with the stack frames of the gateway's code path,
 * so the {@code errors} text of a response reads like the real gateway's. Real exceptions (parser,
 * planner, cluster client) keep their own frames; only this stand-in's frames are rewritten.
 */
final class ServerErrors {

    static final String SQL_GATEWAY_EXCEPTION =
            "org.apache.flink.table.gateway.api.utils.SqlGatewayException";
    static final String SQL_EXECUTION_EXCEPTION =
            "org.apache.flink.table.gateway.service.utils.SqlExecutionException";
    static final String REST_HANDLER_EXCEPTION =
            "org.apache.flink.runtime.rest.handler.RestHandlerException";
    static final String HANDLER_REQUEST_EXCEPTION =
            "org.apache.flink.runtime.rest.handler.HandlerRequestException";
    static final String MISMATCHED_INPUT_EXCEPTION =
            "org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.exc.MismatchedInputException";

    private static final String GATEWAY = "org.apache.flink.table.gateway.";
    private static final String SERVICE = GATEWAY + "service.SqlGatewayServiceImpl.";
    private static final String OPERATION_MANAGER = GATEWAY + "service.operation.OperationManager";
    private static final String OWN_PACKAGE = ServerErrors.class.getPackageName() + ".";
    private static final String OWN_EXECUTOR = StatementExecutor.class.getName();
    private static final String GATEWAY_EXECUTOR =
            GATEWAY + "service.operation.OperationExecutor";

    /** The REST server's Netty pipeline below a handler, as in Flink 2.x. */
    static final StackTraceElement[] REST_PIPELINE =
            frames(
                    "org.apache.flink.runtime.rest.handler.LeaderRetrievalHandler.lambda$channelRead0$0:87",
                    "java.base/java.util.Optional.ifPresent:178",
                    "org.apache.flink.util.OptionalConsumer.ifPresent:45",
                    "org.apache.flink.runtime.rest.handler.LeaderRetrievalHandler.channelRead0:84",
                    "org.apache.flink.runtime.rest.handler.LeaderRetrievalHandler.channelRead0:49",
                    netty("channel.SimpleChannelInboundHandler.channelRead:99"),
                    netty("channel.AbstractChannelHandlerContext.fireChannelRead:356"),
                    "org.apache.flink.runtime.rest.handler.router.RouterHandler.routed:115",
                    "org.apache.flink.runtime.rest.handler.router.RouterHandler.channelRead0:94",
                    "org.apache.flink.runtime.rest.handler.router.RouterHandler.channelRead0:55",
                    netty("channel.SimpleChannelInboundHandler.channelRead:99"),
                    netty("channel.AbstractChannelHandlerContext.fireChannelRead:356"),
                    netty("handler.codec.MessageToMessageDecoder.channelRead:107"),
                    netty("channel.AbstractChannelHandlerContext.fireChannelRead:356"),
                    "org.apache.flink.runtime.rest.FileUploadHandler.channelRead0:233",
                    "org.apache.flink.runtime.rest.FileUploadHandler.channelRead0:70",
                    netty("channel.SimpleChannelInboundHandler.channelRead:99"),
                    netty("channel.AbstractChannelHandlerContext.fireChannelRead:356"),
                    netty(
                            "channel.CombinedChannelDuplexHandler$DelegatingChannelHandlerContext.fireChannelRead:434"),
                    netty("handler.codec.ByteToMessageDecoder.fireChannelRead:346"),
                    netty("handler.codec.ByteToMessageDecoder.channelRead:318"),
                    netty("channel.CombinedChannelDuplexHandler.channelRead:249"),
                    netty("channel.AbstractChannelHandlerContext.fireChannelRead:354"),
                    netty("channel.DefaultChannelPipeline$HeadContext.channelRead:1429"),
                    netty("channel.DefaultChannelPipeline.fireChannelRead:918"),
                    netty("channel.nio.AbstractNioByteChannel$NioByteUnsafe.read:168"),
                    netty("channel.nio.AbstractNioChannel$AbstractNioUnsafe.handle:445"),
                    netty("channel.nio.NioIoHandler$DefaultNioRegistration.handle:381"),
                    netty("channel.nio.NioIoHandler.processSelectedKey:587"),
                    netty("channel.nio.NioIoHandler.processSelectedKeysOptimized:562"),
                    netty("channel.nio.NioIoHandler.processSelectedKeys:503"),
                    netty("channel.nio.NioIoHandler.run:475"),
                    netty("channel.SingleThreadIoEventLoop.runIo:225"),
                    netty("channel.SingleThreadIoEventLoop.run:196"),
                    netty("util.concurrent.SingleThreadEventExecutor$5.run:1193"),
                    netty("util.internal.ThreadExecutorMap$2.run:74"),
                    "java.base/java.lang.Thread.run:840");

    /** A worker thread of the gateway's operation pool. */
    private static final StackTraceElement[] WORKER_THREAD =
            frames(
                    "java.base/java.util.concurrent.Executors$RunnableAdapter.call:539",
                    "java.base/java.util.concurrent.FutureTask.run:264",
                    "java.base/java.util.concurrent.Executors$RunnableAdapter.call:539",
                    "java.base/java.util.concurrent.FutureTask.run:264",
                    "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker:1136",
                    "java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run:635",
                    "java.base/java.lang.Thread.run:840");

    /** Below an operation's work on the worker thread. */
    static final StackTraceElement[] OPERATION_WORK =
            concat(
                    frames(
                            SERVICE + "lambda$executeStatement$1:425",
                            OPERATION_MANAGER + ".lambda$submitOperation$1:119",
                            OPERATION_MANAGER + "$Operation.lambda$run$0:258"),
                    WORKER_THREAD);

    /** Where the operation manager wraps a failed operation. */
    static final StackTraceElement[] OPERATION_FAILED =
            concat(
                    frames(
                            OPERATION_MANAGER + "$Operation.processThrowable:414",
                            OPERATION_MANAGER + "$Operation.lambda$run$0:267"),
                    WORKER_THREAD);

    /** The result store's retrieval thread. */
    static final StackTraceElement[] RESULT_RETRIEVAL =
            frames(GATEWAY + "service.result.ResultStore$ResultRetrievalThread.run:229");

    /** The frames of the handler serving the current request (set by the REST server). */
    private static final ThreadLocal<StackTraceElement[]> HANDLER =
            ThreadLocal.withInitial(() -> REST_PIPELINE);

    private ServerErrors() {}

    /** An exception that prints as {@code className}. */
    static class Named extends RuntimeException {
        private static final long serialVersionUID = 1L;

        final String className;
        /** The HTTP status of a RestHandlerException; 0 for every other class. */
        final int httpStatus;

        Named(
                String className,
                String message,
                Throwable cause,
                int httpStatus,
                StackTraceElement[] frames) {
            super(message, cause);
            this.className = className;
            this.httpStatus = httpStatus;
            setStackTrace(frames);
        }

        @Override
        public String toString() {
            String message = getLocalizedMessage();
            return message == null ? className : className + ": " + message;
        }
    }

    // ------------------------------------------------------------------------------------------
    // The exceptions the gateway raises
    // ------------------------------------------------------------------------------------------

    static Named gatewayException(String message, Throwable cause, StackTraceElement[] frames) {
        return new Named(SQL_GATEWAY_EXCEPTION, message, cause, 0, frames);
    }

    /** {@code new SqlGatewayException(cause)}: the message is the cause's toString. */
    static Named wrapInGatewayException(Throwable cause, StackTraceElement[] frames) {
        return new Named(SQL_GATEWAY_EXCEPTION, cause.toString(), cause, 0, frames);
    }

    /** An exception thrown by the statement executor, on the operation's worker thread. */
    static Named executionException(String message, Throwable cause) {
        Named error =
                new Named(SQL_EXECUTION_EXCEPTION, message, cause, 0, new StackTraceElement[0]);
        // Its frames are the executor's, rewritten like any other exception of the operation.
        error.setStackTrace(
                executorFrames(new Throwable().getStackTrace(), OPERATION_WORK, true));
        return error;
    }

    static Named restHandlerException(
            String message, int status, Throwable cause, StackTraceElement[] frames) {
        return new Named(REST_HANDLER_EXCEPTION, message, cause, status, frames);
    }

    /** A request whose path or query parameter does not parse (400). */
    static Named badParameter(String kind, String key, String value) {
        String detail =
                String.format("Cannot resolve %s parameter (%s) from value \"%s\".", kind, key, value);
        Named cause =
                new Named(
                        HANDLER_REQUEST_EXCEPTION,
                        detail,
                        null,
                        0,
                        concat(
                                frames(
                                        "org.apache.flink.runtime.rest.handler.HandlerRequest.resolve"
                                                + ("path".equals(kind) ? "Path" : "Query")
                                                + "Parameters:"
                                                + ("path".equals(kind) ? 177 : 199),
                                        "org.apache.flink.runtime.rest.handler.HandlerRequest.resolveParametersAndCreate:159",
                                        "org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader:179"),
                                REST_PIPELINE));
        return restHandlerException(
                "Bad request, could not parse parameters: " + detail,
                400,
                cause,
                concat(
                        frames("org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader:188"),
                        REST_PIPELINE));
    }

    /** A request body that does not map to the request class (400). */
    static Named badBody(String requestClass, Throwable cause) {
        StackTraceElement[] here =
                concat(
                        frames("org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader:165"),
                        REST_PIPELINE);
        disguise(cause, here);
        return restHandlerException(
                String.format("Request did not match expected format %s.", requestClass),
                400,
                cause,
                here);
    }

    // ------------------------------------------------------------------------------------------
    // Frames
    // ------------------------------------------------------------------------------------------

    /** Sets the frames of the handler that serves this thread's current request. */
    static void enterHandler(String handler, int line) {
        HANDLER.set(
                concat(
                        frames(
                                GATEWAY + "rest.handler." + handler + ".handleRequest:" + line,
                                GATEWAY + "rest.handler.AbstractSqlGatewayRestHandler.respondToRequest:84",
                                GATEWAY + "rest.handler.AbstractSqlGatewayRestHandler.respondToRequest:52",
                                "org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader:196"),
                        REST_PIPELINE));
    }

    static void leaveHandler() {
        HANDLER.remove();
    }

    /** The current handler's frames. */
    static StackTraceElement[] handlerFrames() {
        return HANDLER.get();
    }

    /** Frames of {@code SqlGatewayServiceImpl.<method>} called by the current handler. */
    static StackTraceElement[] serviceFrames(String method, int line) {
        return concat(frames(SERVICE + method + ":" + line), HANDLER.get());
    }

    /** Frames of the session manager's lookup, called from a service method. */
    static StackTraceElement[] sessionLookupFrames(String method, int line) {
        return concat(
                frames(
                        GATEWAY + "service.session.SessionManagerImpl.getSession:113",
                        SERVICE + "getSession:346"),
                serviceFrames(method, line));
    }

    /** Frames of the operation manager's lookup, called from a service method. */
    static StackTraceElement[] operationLookupFrames(String caller, String method, int line) {
        return concat(
                frames(
                        OPERATION_MANAGER + ".lambda$getOperation$3:" + 300,
                        OPERATION_MANAGER + ".readLock:" + 332,
                        OPERATION_MANAGER + ".getOperation:" + 294,
                        OPERATION_MANAGER + "." + caller + ":" + 175),
                serviceFrames(method, line));
    }

    static StackTraceElement[] frames(String... specs) {
        StackTraceElement[] out = new StackTraceElement[specs.length];
        for (int i = 0; i < specs.length; i++) {
            String spec = specs[i];
            String module = null;
            int slash = spec.indexOf('/');
            if (slash > 0) {
                module = spec.substring(0, slash);
                spec = spec.substring(slash + 1);
            }
            int colon = spec.lastIndexOf(':');
            int line = Integer.parseInt(spec.substring(colon + 1));
            String qualified = spec.substring(0, colon);
            int dot = qualified.lastIndexOf('.');
            String cls = qualified.substring(0, dot);
            out[i] = new StackTraceElement(
                    null, module, null, cls, qualified.substring(dot + 1), fileOf(cls), line);
        }
        return out;
    }

    private static String netty(String rest) {
        return "org.apache.flink.shaded.netty4.io.netty." + rest;
    }

    private static String fileOf(String cls) {
        String simple = cls.substring(cls.lastIndexOf('.') + 1);
        int dollar = simple.indexOf('$');
        return (dollar >= 0 ? simple.substring(0, dollar) : simple) + ".java";
    }

    static StackTraceElement[] concat(StackTraceElement[] a, StackTraceElement[] b) {
        StackTraceElement[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * Rewrites the frames of {@code t}, its causes and suppressed exceptions: this stand-in's
     * statement executor becomes the gateway's OperationExecutor, and the stand-in's frames below
     * it are replaced by {@code tail}.
     */
    static <T extends Throwable> T disguise(T t, StackTraceElement[] tail) {
        disguise(t, tail, Collections.newSetFromMap(new IdentityHashMap<>()));
        return t;
    }

    private static void disguise(Throwable t, StackTraceElement[] tail, Set<Throwable> seen) {
        if (t == null || !seen.add(t)) {
            return;
        }
        if (!(t instanceof Named)) {
            StackTraceElement[] original = t.getStackTrace();
            StackTraceElement[] rewritten = executorFrames(original, tail, false);
            if (rewritten != original) {
                t.setStackTrace(rewritten);
            }
        }
        disguise(t.getCause(), tail, seen);
        for (Throwable s : t.getSuppressed()) {
            disguise(s, tail, seen);
        }
    }

    private static StackTraceElement[] executorFrames(
            StackTraceElement[] original, StackTraceElement[] tail, boolean skipOwnTop) {
        List<StackTraceElement> out = new ArrayList<>();
        boolean own = false;
        int i = 0;
        if (skipOwnTop) {
            // drop the frames of the helper that built the exception
            while (i < original.length && original[i].getClassName().equals(ServerErrors.class.getName())) {
                i++;
            }
        }
        for (; i < original.length; i++) {
            StackTraceElement e = original[i];
            String cls = e.getClassName();
            if (cls.equals(OWN_EXECUTOR) || cls.startsWith(OWN_EXECUTOR + "$")) {
                own = true;
                out.add(new StackTraceElement(
                        GATEWAY_EXECUTOR + cls.substring(OWN_EXECUTOR.length()),
                        e.getMethodName(),
                        "OperationExecutor.java",
                        e.getLineNumber()));
            } else if (cls.startsWith(OWN_PACKAGE)) {
                own = true;
                break;
            } else {
                out.add(e);
            }
        }
        if (!own) {
            return original;
        }
        out.addAll(Arrays.asList(tail));
        return out.toArray(new StackTraceElement[0]);
    }

    // ------------------------------------------------------------------------------------------
    // Responses
    // ------------------------------------------------------------------------------------------

    /** An error response: the HTTP status and the {@code errors} list. */
    static final class ErrorResponse {
        final int status;
        final List<String> errors;

        ErrorResponse(int status, List<String> errors) {
            this.status = status;
            this.errors = errors;
        }
    }

    /** What Flink's AbstractHandler answers for a failure. */
    static ErrorResponse toResponse(Throwable t) {
        if (t instanceof Named && ((Named) t).httpStatus > 0) {
            return new ErrorResponse(
                    ((Named) t).httpStatus,
                    Collections.singletonList(ExceptionUtils.stringifyException(t)));
        }
        String trace =
                String.format(
                        "<Exception on server side:%n%s%nEnd of exception on server side>",
                        ExceptionUtils.stringifyException(t));
        return new ErrorResponse(500, Arrays.asList("Internal server error.", trace));
    }
}
