package flinkdeck.gateway;

import org.apache.flink.api.common.JobID;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.utils.print.RowDataToStringConverter;

import java.util.Collections;
import java.util.List;

/** One answer to a fetch: the gateway's ResultSet. */
final class ResultPage {

    enum Type {
        NOT_READY,
        PAYLOAD,
        EOS
    }

    /** The operation has not finished yet: poll token 0 again. */
    static final ResultPage NOT_READY =
            new ResultPage(
                    Type.NOT_READY,
                    0L,
                    ResolvedSchema.of(Collections.emptyList()),
                    Collections.emptyList(),
                    null,
                    false,
                    null,
                    null);

    final Type type;
    /** The token of the next page; null at the end of the stream. */
    final Long nextToken;

    final ResolvedSchema schema;
    final List<RowData> data;
    final RowDataToStringConverter converter;
    final boolean isQueryResult;
    final JobID jobId;
    final ResultKind resultKind;

    ResultPage(
            Type type,
            Long nextToken,
            ResolvedSchema schema,
            List<RowData> data,
            RowDataToStringConverter converter,
            boolean isQueryResult,
            JobID jobId,
            ResultKind resultKind) {
        this.type = type;
        this.nextToken = nextToken;
        this.schema = schema;
        this.data = data;
        this.converter = converter;
        this.isQueryResult = isQueryResult;
        this.jobId = jobId;
        this.resultKind = resultKind;
    }
}
