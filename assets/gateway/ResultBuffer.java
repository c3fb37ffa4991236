package flinkdeck.gateway;

import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.table.api.internal.StaticResultProvider;
import org.apache.flink.table.api.internal.TableResultInternal;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.utils.print.RowDataToStringConverter;
import org.apache.flink.util.CloseableIterator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The results of a finished operation, served by token as the gateway's ResultFetcher serves
 * them: a background thread drains the statement's row iterator into a bounded buffer (5000 rows);
 * each fetch of the current token takes what has arrived since (possibly nothing: a PAYLOAD with
 * no rows) and advances the token; the previous token may be fetched again; after the iterator
 * ends, the next fetch answers EOS.
 */
final class ResultBuffer {

    private static final Logger LOG = LoggerFactory.getLogger(ResultBuffer.class);
    private static final int MAX_BUFFER_SIZE = 5000;

    final ResolvedSchema schema;
    private final RowDataToStringConverter converter;
    private final boolean isQueryResult;
    private final JobID jobId;
    private final ResultKind resultKind;

    // the store: rows arrive from the iterator on the retrieval thread
    private final CloseableIterator<RowData> source;
    private final Object lock = new Object();
    private final List<RowData> arrived = new ArrayList<>();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private volatile boolean retrieving;
    private final Thread retrieval;

    // the fetcher
    private final LinkedList<RowData> buffered = new LinkedList<>();
    private final LinkedList<RowData> previous = new LinkedList<>();
    private long currentToken;
    private boolean noMoreResults;

    private ResultBuffer(
            ResolvedSchema schema,
            CloseableIterator<RowData> source,
            List<RowData> rows,
            RowDataToStringConverter converter,
            boolean isQueryResult,
            JobID jobId,
            ResultKind resultKind) {
        this.schema = schema;
        this.source = source;
        this.converter = converter;
        this.isQueryResult = isQueryResult;
        this.jobId = jobId;
        this.resultKind = resultKind;
        this.buffered.addAll(rows);
        if (source == null) {
            this.retrieval = null;
            this.retrieving = false;
        } else {
            this.retrieving = true;
            this.retrieval = new Thread(this::retrieve, "result-retrieval");
            this.retrieval.setDaemon(true);
            this.retrieval.start();
        }
    }

    /** The rows of a statement's table result, streamed as they come. */
    static ResultBuffer fromTableResult(TableResultInternal result, boolean isQueryResult) {
        JobID jobId = result.getJobClient().map(JobClient::getJobID).orElse(null);
        return new ResultBuffer(
                result.getResolvedSchema(),
                result.collectInternal(),
                Collections.emptyList(),
                result.getRowDataToStringConverter(),
                isQueryResult,
                jobId,
                result.getResultKind());
    }

    /** Rows the gateway computed itself (SET, SHOW JOBS, a submitted job's id...). */
    static ResultBuffer fromRows(ResolvedSchema schema, List<RowData> rows, JobID jobId) {
        return new ResultBuffer(
                schema,
                null,
                rows,
                StaticResultProvider.SIMPLE_ROW_DATA_TO_STRING_CONVERTER,
                false,
                jobId,
                ResultKind.SUCCESS_WITH_CONTENT);
    }

    /** Stops the retrieval and closes the iterator (which cancels a query's job). */
    void close() {
        retrieving = false;
        if (retrieval != null) {
            retrieval.interrupt();
        }
        if (source != null) {
            try {
                source.close();
            } catch (Exception e) {
                LOG.error("Failed to close the ResultStore. Ignore the error.", e);
            }
        }
    }

    synchronized ResultPage fetch(long token) {
        if (token == currentToken) {
            if (noMoreResults) {
                return endOfStream();
            }
            previous.clear();
            if (buffered.isEmpty()) {
                List<RowData> fresh = takeArrived();
                if (fresh == null) {
                    noMoreResults = true;
                    return endOfStream();
                }
                buffered.addAll(fresh);
            }
            currentToken++;
            previous.addAll(buffered);
            buffered.clear();
            return payload();
        } else if (token == currentToken - 1 && token >= 0) {
            return payload();
        } else {
            String message =
                    currentToken == 0
                            ? "Expecting token to be 0, but found " + token + "."
                            : "Expecting token to be "
                                    + currentToken
                                    + " or "
                                    + (currentToken - 1)
                                    + ", but found "
                                    + token
                                    + ".";
            throw ServerErrors.executionException(message, null);
        }
    }

    private ResultPage payload() {
        return new ResultPage(
                ResultPage.Type.PAYLOAD,
                currentToken,
                schema,
                new ArrayList<>(previous),
                converter,
                isQueryResult,
                jobId,
                resultKind);
    }

    private ResultPage endOfStream() {
        return new ResultPage(
                ResultPage.Type.EOS,
                null,
                schema,
                Collections.emptyList(),
                converter,
                false,
                null,
                null);
    }

    /** What arrived since the last call; null when nothing more will arrive. */
    private List<RowData> takeArrived() {
        synchronized (lock) {
            if (retrieving && failure.get() == null) {
                List<RowData> rows = new ArrayList<>(arrived);
                arrived.clear();
                lock.notifyAll();
                return rows;
            }
            if (!retrieving && !arrived.isEmpty()) {
                List<RowData> rows = new ArrayList<>(arrived);
                arrived.clear();
                return rows;
            }
            if (failure.get() != null) {
                throw failure.get();
            }
            return null;
        }
    }

    private void retrieve() {
        try {
            while (retrieving && !Thread.interrupted() && source.hasNext()) {
                RowData row = source.next();
                synchronized (lock) {
                    if (arrived.size() >= MAX_BUFFER_SIZE) {
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                    arrived.add(row);
                    lock.notifyAll();
                }
            }
        } catch (RuntimeException e) {
            ServerErrors.disguise(e, ServerErrors.RESULT_RETRIEVAL);
            failure.compareAndSet(
                    null,
                    new ServerErrors.Named(
                            ServerErrors.SQL_EXECUTION_EXCEPTION,
                            "Error while retrieving result.",
                            e,
                            0,
                            ServerErrors.RESULT_RETRIEVAL));
        } finally {
            retrieving = false;
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }
}
