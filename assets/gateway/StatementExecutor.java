package flinkdeck.gateway;

import org.apache.flink.api.common.JobID;
import org.apache.flink.client.cli.ClientOptions;
import org.apache.flink.client.deployment.ClusterClientFactory;
import org.apache.flink.client.deployment.ClusterDescriptor;
import org.apache.flink.client.deployment.DefaultClusterClientServiceLoader;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableConfig;
import org.apache.flink.table.api.TableException;
import org.apache.flink.table.api.bridge.java.internal.StreamTableEnvironmentImpl;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.api.internal.TableResultInternal;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.delegation.Executor;
import org.apache.flink.table.delegation.ExecutorFactory;
import org.apache.flink.table.delegation.Planner;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.PlannerFactoryUtil;
import org.apache.flink.table.operations.BeginStatementSetOperation;
import org.apache.flink.table.operations.EndStatementSetOperation;
import org.apache.flink.table.operations.LoadModuleOperation;
import org.apache.flink.table.operations.ModifyOperation;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.QueryOperation;
import org.apache.flink.table.operations.StatementSetOperation;
import org.apache.flink.table.operations.UnloadModuleOperation;
import org.apache.flink.table.operations.UseOperation;
import org.apache.flink.table.operations.command.AddJarOperation;
import org.apache.flink.table.operations.command.DescribeJobOperation;
import org.apache.flink.table.operations.command.RemoveJarOperation;
import org.apache.flink.table.operations.command.ResetOperation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.table.operations.command.ShowJobsOperation;
import org.apache.flink.table.operations.command.StopJobOperation;
import org.apache.flink.table.operations.ddl.AlterOperation;
import org.apache.flink.table.operations.ddl.CreateOperation;
import org.apache.flink.table.operations.ddl.DropOperation;
import org.apache.flink.table.utils.DateTimeUtils;
import org.apache.flink.util.FlinkException;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Runs one statement of a session the way the gateway's OperationExecutor does: a fresh
 * TableEnvironment from the session's configuration (plus the request's execution config), the
 * statement parsed into operations, and the statements the gateway answers itself (SET, RESET,
 * statement sets, SHOW JOBS, DESCRIBE JOB, STOP JOB) handled here against the cluster.
 */
final class StatementExecutor {

    private static final String JOB_ID = "job id";
    private static final String JOB_NAME = "job name";
    private static final String STATUS = "status";
    private static final String START_TIME = "start time";
    private static final String SET_KEY = "key";
    private static final String SET_VALUE = "value";
    private static final String COMPLETION_CANDIDATES = "candidates";
    private static final String SAVEPOINT_PATH = "savepoint path";

    private final GatewaySession session;
    private final Configuration executionConfig;

    StatementExecutor(GatewaySession session, Configuration executionConfig) {
        this.session = session;
        this.executionConfig = executionConfig;
    }

    // ------------------------------------------------------------------------------------------
    // Entry points
    // ------------------------------------------------------------------------------------------

    ResultBuffer executeStatement(UUID handle, String statement) {
        TableEnvironmentInternal tableEnv = tableEnvironment();
        List<Operation> parsed = tableEnv.getParser().parse(statement);
        if (parsed.size() > 1) {
            throw new UnsupportedOperationException(
                    "Unsupported SQL statement! Execute statement only accepts a single SQL statement or "
                            + "multiple 'INSERT INTO' statements wrapped in a 'STATEMENT SET' block.");
        }
        Operation op = parsed.get(0);
        return session.statementSetState
                ? executeOperationInStatementSetState(tableEnv, handle, op)
                : executeOperation(tableEnv, handle, op);
    }

    ResultBuffer configureSession(UUID handle, String statement) {
        TableEnvironmentInternal tableEnv = tableEnvironment();
        List<Operation> parsed = tableEnv.getParser().parse(statement);
        if (parsed.size() > 1) {
            throw new UnsupportedOperationException(
                    "Unsupported SQL statement! Configure session only accepts a single SQL statement.");
        }
        Operation op = parsed.get(0);
        if (!(op instanceof SetOperation)
                && !(op instanceof ResetOperation)
                && !(op instanceof CreateOperation)
                && !(op instanceof DropOperation)
                && !(op instanceof UseOperation)
                && !(op instanceof AlterOperation)
                && !(op instanceof LoadModuleOperation)
                && !(op instanceof UnloadModuleOperation)
                && !(op instanceof AddJarOperation)) {
            throw new UnsupportedOperationException(
                    String.format(
                            "Unsupported statement for configuring session:%s\n"
                                    + "The configureSession API only supports to execute statement of type "
                                    + "CREATE TABLE, DROP TABLE, ALTER TABLE, "
                                    + "CREATE DATABASE, DROP DATABASE, ALTER DATABASE, "
                                    + "CREATE FUNCTION, DROP FUNCTION, ALTER FUNCTION, "
                                    + "CREATE CATALOG, DROP CATALOG, "
                                    + "USE CATALOG, USE [CATALOG.]DATABASE, "
                                    + "CREATE VIEW, DROP VIEW, "
                                    + "LOAD MODULE, UNLOAD MODULE, USE MODULE, "
                                    + "ADD JAR.",
                            statement));
        }
        if (op instanceof SetOperation) {
            return callSetOperation(tableEnv, (SetOperation) op);
        } else if (op instanceof ResetOperation) {
            return callResetOperation((ResetOperation) op);
        }
        return callOperation(tableEnv, op);
    }

    ResultBuffer getCompletionHints(String statement, int position) {
        String[] hints = tableEnvironment().getParser().getCompletionHints(statement, position);
        List<RowData> rows = new ArrayList<>();
        for (String hint : hints) {
            rows.add(GenericRowData.of(StringData.fromString(hint)));
        }
        return ResultBuffer.fromRows(
                ResolvedSchema.of(Column.physical(COMPLETION_CANDIDATES, DataTypes.STRING())),
                rows,
                null);
    }

    /** A TableEnvironment over the session's catalogs, configured as the session is now. */
    TableEnvironmentInternal tableEnvironment() {
        Configuration operationConfig = session.conf.clone();
        operationConfig.addAll(executionConfig);
        EnvironmentSettings settings =
                EnvironmentSettings.newInstance().withConfiguration(operationConfig).build();
        StreamExecutionEnvironment env =
                new StreamExecutionEnvironment(operationConfig, session.userClassLoader);
        TableConfig tableConfig = TableConfig.getDefault();
        tableConfig.setRootConfiguration(session.defaults);
        tableConfig.addConfiguration(operationConfig);
        Executor executor = lookupExecutor(env);
        Planner planner =
                PlannerFactoryUtil.createPlanner(
                        executor,
                        tableConfig,
                        session.resourceManager.getUserClassLoader(),
                        session.moduleManager,
                        session.catalogManager,
                        session.functionCatalog);
        return new StreamTableEnvironmentImpl(
                session.catalogManager,
                session.moduleManager,
                session.resourceManager,
                session.functionCatalog,
                tableConfig,
                env,
                planner,
                executor,
                settings.isStreamingMode());
    }

    private Executor lookupExecutor(StreamExecutionEnvironment env) {
        try {
            ExecutorFactory factory =
                    FactoryUtil.discoverFactory(
                            session.userClassLoader,
                            ExecutorFactory.class,
                            ExecutorFactory.DEFAULT_IDENTIFIER);
            Method create = factory.getClass().getMethod("create", StreamExecutionEnvironment.class);
            return (Executor) create.invoke(factory, env);
        } catch (Exception e) {
            throw new TableException(
                    "Could not instantiate the executor. Make sure a planner module is on the classpath",
                    e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Dispatch
    // ------------------------------------------------------------------------------------------

    private ResultBuffer executeOperationInStatementSetState(
            TableEnvironmentInternal tableEnv, UUID handle, Operation op) {
        if (op instanceof EndStatementSetOperation) {
            return callEndStatementSetOperation(tableEnv, handle);
        } else if (op instanceof ModifyOperation) {
            session.statementSetOperations.add((ModifyOperation) op);
            return ok();
        }
        throw ServerErrors.executionException(
                "Only 'INSERT/CREATE TABLE AS' statement is allowed in Statement Set or use 'END' statement to submit Statement Set.",
                null);
    }

    private ResultBuffer executeOperation(
            TableEnvironmentInternal tableEnv, UUID handle, Operation op) {
        String kind = op.getClass().getSimpleName();
        if (op instanceof SetOperation) {
            return callSetOperation(tableEnv, (SetOperation) op);
        } else if (op instanceof ResetOperation) {
            return callResetOperation((ResetOperation) op);
        } else if (op instanceof BeginStatementSetOperation) {
            session.statementSetState = true;
            return ok();
        } else if (op instanceof EndStatementSetOperation) {
            throw ServerErrors.executionException(
                    "No Statement Set to submit. 'END' statement should be used after 'BEGIN STATEMENT SET'.",
                    null);
        } else if (op instanceof ModifyOperation) {
            return callModifyOperations(
                    tableEnv, handle, Collections.singletonList((ModifyOperation) op));
        } else if (kind.equals("CompileAndExecutePlanOperation")
                || kind.equals("ExecutePlanOperation")) {
            return fetchJobId(tableEnv.executeInternal(op), handle);
        } else if (op instanceof StatementSetOperation) {
            return callModifyOperations(
                    tableEnv, handle, ((StatementSetOperation) op).getOperations());
        } else if (op instanceof QueryOperation) {
            return ResultBuffer.fromTableResult(tableEnv.executeInternal(op), true);
        } else if (op instanceof StopJobOperation) {
            return callStopJobOperation(tableEnv, handle, (StopJobOperation) op);
        } else if (op instanceof ShowJobsOperation) {
            return callShowJobsOperation(tableEnv, handle);
        } else if (op instanceof DescribeJobOperation) {
            return callDescribeJobOperation(tableEnv, handle, (DescribeJobOperation) op);
        } else if (op instanceof RemoveJarOperation) {
            throw new UnsupportedOperationException(
                    "SQL Gateway doesn't support REMOVE JAR syntax now.");
        }
        return callOperation(tableEnv, op);
    }

    private ResultBuffer callOperation(TableEnvironmentInternal tableEnv, Operation op) {
        return ResultBuffer.fromTableResult(tableEnv.executeInternal(op), false);
    }

    private static ResultBuffer ok() {
        return ResultBuffer.fromTableResult(TableResultInternal.TABLE_RESULT_OK, false);
    }

    // ------------------------------------------------------------------------------------------
    // SET, RESET and statement sets
    // ------------------------------------------------------------------------------------------

    private ResultBuffer callSetOperation(TableEnvironmentInternal tableEnv, SetOperation setOp) {
        if (setOp.getKey().isPresent() && setOp.getValue().isPresent()) {
            session.set(setOp.getKey().get().trim(), setOp.getValue().get().trim());
            return ok();
        } else if (!setOp.getKey().isPresent() && !setOp.getValue().isPresent()) {
            Map<String, String> config = tableEnv.getConfig().getConfiguration().toMap();
            List<String> keys = new ArrayList<>(config.keySet());
            Collections.sort(keys);
            List<RowData> rows = new ArrayList<>();
            for (String key : keys) {
                rows.add(
                        GenericRowData.of(
                                StringData.fromString(key), StringData.fromString(config.get(key))));
            }
            return ResultBuffer.fromRows(
                    ResolvedSchema.of(
                            Column.physical(SET_KEY, DataTypes.STRING()),
                            Column.physical(SET_VALUE, DataTypes.STRING())),
                    rows,
                    null);
        }
        throw ServerErrors.executionException(
                "Illegal SetOperation: " + setOp.asSummaryString(), null);
    }

    private ResultBuffer callResetOperation(ResetOperation resetOp) {
        if (resetOp.getKey().isPresent()) {
            session.reset(resetOp.getKey().get().trim());
        } else {
            session.resetAll();
        }
        return ok();
    }

    private ResultBuffer callEndStatementSetOperation(
            TableEnvironmentInternal tableEnv, UUID handle) {
        List<ModifyOperation> operations = new ArrayList<>(session.statementSetOperations);
        session.statementSetState = false;
        session.statementSetOperations.clear();
        if (operations.isEmpty()) {
            return ok();
        }
        return callModifyOperations(tableEnv, handle, operations);
    }

    private ResultBuffer callModifyOperations(
            TableEnvironmentInternal tableEnv, UUID handle, List<ModifyOperation> operations) {
        TableResultInternal result = tableEnv.executeInternal(operations);
        if (operations.size() == 1
                && operations.get(0).getClass().getSimpleName().equals("DeleteFromFilterOperation")) {
            return ResultBuffer.fromTableResult(result, false);
        }
        return fetchJobId(result, handle);
    }

    private ResultBuffer fetchJobId(TableResultInternal result, UUID handle) {
        JobID jobId =
                result.getJobClient()
                        .orElseThrow(
                                () ->
                                        ServerErrors.executionException(
                                                String.format(
                                                        "Can't get job client for the operation %s.",
                                                        handle),
                                                null))
                        .getJobID();
        return ResultBuffer.fromRows(
                ResolvedSchema.of(Column.physical(JOB_ID, DataTypes.STRING())),
                Collections.singletonList(GenericRowData.of(StringData.fromString(jobId.toString()))),
                jobId);
    }

    // ------------------------------------------------------------------------------------------
    // Jobs on the cluster
    // ------------------------------------------------------------------------------------------

    private ResultBuffer callStopJobOperation(
            TableEnvironmentInternal tableEnv, UUID handle, StopJobOperation stop) {
        String jobId = stop.getJobId();
        boolean withSavepoint = stop.isWithSavepoint();
        boolean withDrain = stop.isWithDrain();
        Configuration configuration = tableEnv.getConfig().getConfiguration();
        Duration timeout = configuration.get(ClientOptions.CLIENT_TIMEOUT);
        Optional<String> savepoint =
                runClusterAction(
                        configuration,
                        handle,
                        client -> {
                            try {
                                if (withSavepoint) {
                                    return Optional.of(
                                            client.stopWithSavepoint(
                                                            JobID.fromHexString(jobId),
                                                            withDrain,
                                                            configuration.get(
                                                                    CheckpointingOptions.SAVEPOINT_DIRECTORY),
                                                            SavepointFormatType.DEFAULT)
                                                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS));
                                }
                                client.cancel(JobID.fromHexString(jobId))
                                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                                return Optional.empty();
                            } catch (Exception e) {
                                throw ServerErrors.executionException(
                                        String.format(
                                                "Could not stop job %s %s for operation %s.",
                                                jobId, withSavepoint ? "with savepoint" : "", handle),
                                        e);
                            }
                        });
        if (withSavepoint) {
            return ResultBuffer.fromRows(
                    ResolvedSchema.of(Column.physical(SAVEPOINT_PATH, DataTypes.STRING())),
                    Collections.singletonList(
                            GenericRowData.of(StringData.fromString(savepoint.orElse("")))),
                    null);
        }
        return ok();
    }

    private ResultBuffer callShowJobsOperation(TableEnvironmentInternal tableEnv, UUID handle) {
        return jobRows(listJobs(tableEnv, handle));
    }

    private ResultBuffer callDescribeJobOperation(
            TableEnvironmentInternal tableEnv, UUID handle, DescribeJobOperation describe) {
        String jobId = describe.getJobId();
        for (JobStatusMessage job : listJobs(tableEnv, handle)) {
            if (job.getJobId().toString().equals(jobId)) {
                return jobRows(Collections.singletonList(job));
            }
        }
        throw ServerErrors.executionException(
                String.format("Described job %s does not exist in the cluster.", jobId), null);
    }

    private Collection<JobStatusMessage> listJobs(TableEnvironmentInternal tableEnv, UUID handle) {
        Configuration configuration = tableEnv.getConfig().getConfiguration();
        Duration timeout = configuration.get(ClientOptions.CLIENT_TIMEOUT);
        return runClusterAction(
                configuration,
                handle,
                client -> {
                    try {
                        return client.listJobs().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (Exception e) {
                        throw ServerErrors.executionException(
                                "Failed to list jobs in the cluster.", e);
                    }
                });
    }

    private static ResultBuffer jobRows(Collection<JobStatusMessage> jobs) {
        List<RowData> rows = new ArrayList<>();
        for (JobStatusMessage job : jobs) {
            rows.add(
                    GenericRowData.of(
                            StringData.fromString(job.getJobId().toString()),
                            StringData.fromString(job.getJobName()),
                            StringData.fromString(job.getJobState().toString()),
                            DateTimeUtils.toTimestampData(job.getStartTime(), 3)));
        }
        return ResultBuffer.fromRows(
                ResolvedSchema.of(
                        Arrays.asList(
                                Column.physical(JOB_ID, DataTypes.STRING()),
                                Column.physical(JOB_NAME, DataTypes.STRING()),
                                Column.physical(STATUS, DataTypes.STRING()),
                                Column.physical(
                                        START_TIME, DataTypes.TIMESTAMP_WITH_LOCAL_TIME_ZONE()))),
                rows,
                null);
    }

    /** What the gateway does with the session's cluster: one client per action. */
    private interface ClusterAction<C, T> {
        T run(ClusterClient<C> client) throws FlinkException;
    }

    private <C, T> T runClusterAction(
            Configuration configuration, UUID handle, ClusterAction<C, T> action) {
        ClusterClientFactory<C> factory =
                new DefaultClusterClientServiceLoader().getClusterClientFactory(configuration);
        C clusterId = factory.getClusterId(configuration);
        if (clusterId == null) {
            throw new NullPointerException("No cluster ID found for operation " + handle);
        }
        try (ClusterDescriptor<C> descriptor = factory.createClusterDescriptor(configuration);
                ClusterClient<C> client = descriptor.retrieve(clusterId).getClusterClient()) {
            return action.run(client);
        } catch (FlinkException e) {
            throw ServerErrors.executionException("Failed to run cluster action.", e);
        }
    }
}
