package flinkdeck.gateway;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One submitted statement: its status as the gateway's OperationManager tracks it, the work on
 * the session's thread, and the results once it has finished.
 *
 * <p>Statuses move INITIALIZED → PENDING (the session's operation lock is held) → RUNNING (the
 * work started) → FINISHED or ERROR; CANCELED and CLOSED can be reached from every non-terminal
 * status, and CLOSED from every status but itself. Results can be fetched only when FINISHED; while
 * earlier, a fetch answers NOT_READY.
 */
final class GatewayOperation {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayOperation.class);

    enum Status {
        INITIALIZED(false),
        PENDING(false),
        RUNNING(false),
        FINISHED(true),
        CANCELED(true),
        CLOSED(true),
        ERROR(true),
        TIMEOUT(true);

        final boolean terminal;

        Status(boolean terminal) {
            this.terminal = terminal;
        }

        boolean canMoveTo(Status to) {
            return next(this).contains(to);
        }

        private static Set<Status> next(Status from) {
            switch (from) {
                case INITIALIZED:
                    return EnumSet.of(PENDING, CANCELED, CLOSED, TIMEOUT, ERROR);
                case PENDING:
                    return EnumSet.of(RUNNING, CANCELED, CLOSED, TIMEOUT, ERROR);
                case RUNNING:
                    return EnumSet.of(FINISHED, CANCELED, CLOSED, TIMEOUT, ERROR);
                case CLOSED:
                    return Collections.emptySet();
                default:
                    return EnumSet.of(CLOSED);
            }
        }
    }

    /** The statement's work, given the operation's handle. */
    interface Work {
        ResultBuffer run(UUID handle) throws Exception;
    }

    final UUID id;
    private final GatewaySession session;
    private final Work work;
    private final AtomicReference<Status> status = new AtomicReference<>(Status.INITIALIZED);

    private volatile FutureTask<Void> invocation;
    private volatile ResultBuffer results;
    private volatile RuntimeException error;

    GatewayOperation(GatewaySession session, Work work) {
        this.id = UUID.randomUUID();
        this.session = session;
        this.work = work;
    }

    Status status() {
        return status.get();
    }

    /**
     * Takes the session's operation lock (waiting for the running operation, as the gateway's
     * request thread does) and hands the work to the session's thread.
     */
    void start() {
        try {
            session.operationLock.acquire();
            updateState(Status.PENDING);
            FutureTask<Void> task =
                    new FutureTask<Void>(this::runWork, null) {
                        @Override
                        protected void done() {
                            session.operationLock.release();
                        }
                    };
            session.submit(task);
            invocation = task;
            Status current = status.get();
            if (current == Status.CLOSED || current == Status.CANCELED) {
                closeResources();
            }
        } catch (Throwable t) {
            processThrowable(t);
            throw ServerErrors.gatewayException(
                    "Failed to submit the operation to the thread pool.",
                    t,
                    ServerErrors.serviceFrames("executeStatement", 430));
        } finally {
            if (invocation == null) {
                session.operationLock.release();
            }
        }
    }

    private void runWork() {
        try {
            updateState(Status.RUNNING);
            ResultBuffer produced = work.run(id);
            results = produced;
            if (!tryUpdateState(Status.FINISHED)) {
                // cancelled or closed while running: do not leave its job behind
                produced.close();
            }
        } catch (Throwable t) {
            if (status.get().terminal) {
                LOG.info("Operation {} ended after it was {}.", id, status.get(), t);
            } else {
                processThrowable(t);
            }
        }
    }

    void cancel() {
        updateState(Status.CANCELED);
        closeResources();
    }

    void close() {
        updateState(Status.CLOSED);
        closeResources();
    }

    /** Waits until the operation is in a terminal status; throws its error if it failed. */
    void awaitTermination() throws InterruptedException {
        synchronized (status) {
            while (!status.get().terminal) {
                status.wait();
            }
        }
        if (status.get() == Status.ERROR) {
            throw error;
        }
    }

    ResultPage fetch(long token) {
        Status current = status.get();
        if (current == Status.ERROR) {
            throw error;
        } else if (current == Status.FINISHED) {
            return results.fetch(token);
        } else if (current == Status.RUNNING
                || current == Status.PENDING
                || current == Status.INITIALIZED) {
            return ResultPage.NOT_READY;
        }
        throw ServerErrors.gatewayException(
                String.format("Can not fetch results from the %s in %s status.", id, current),
                null,
                ServerErrors.operationLookupFrames("fetchResults", "fetchResults", 231));
    }

    private void processThrowable(Throwable t) {
        String message = String.format("Failed to execute the operation %s.", id);
        LOG.error(message, t);
        ServerErrors.disguise(t, ServerErrors.OPERATION_WORK);
        error =
                new ServerErrors.Named(
                        ServerErrors.SQL_EXECUTION_EXCEPTION,
                        message,
                        t,
                        0,
                        ServerErrors.OPERATION_FAILED);
        tryUpdateState(Status.ERROR);
    }

    private void updateState(Status to) {
        Status from;
        do {
            from = status.get();
            if (!from.canMoveTo(to)) {
                throw ServerErrors.gatewayException(
                        String.format(
                                "Failed to convert the Operation Status from %s to %s for %s.",
                                from, to, id),
                        null,
                        ServerErrors.concat(
                                ServerErrors.frames(
                                        "org.apache.flink.table.gateway.service.operation.OperationManager$Operation.updateState:393"),
                                ServerErrors.handlerFrames()));
            }
        } while (!status.compareAndSet(from, to));
        synchronized (status) {
            status.notifyAll();
        }
    }

    private boolean tryUpdateState(Status to) {
        try {
            updateState(to);
            return true;
        } catch (ServerErrors.Named e) {
            return false;
        }
    }

    private void closeResources() {
        FutureTask<Void> task = invocation;
        if (task != null && !task.isDone()) {
            task.cancel(true);
        }
        ResultBuffer r = results;
        if (r != null) {
            r.close();
        }
    }

    @Override
    public String toString() {
        return id.toString();
    }
}
