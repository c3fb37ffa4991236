package flinkdeck.gateway;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.config.TableConfigOptions;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.CatalogManager;
import org.apache.flink.table.catalog.CatalogStoreHolder;
import org.apache.flink.table.catalog.FunctionCatalog;
import org.apache.flink.table.catalog.GenericInMemoryCatalog;
import org.apache.flink.table.catalog.GenericInMemoryCatalogStore;
import org.apache.flink.table.catalog.GenericInMemoryCatalogStoreFactory;
import org.apache.flink.table.factories.TableFactoryUtil;
import org.apache.flink.table.module.ModuleManager;
import org.apache.flink.table.operations.ModifyOperation;
import org.apache.flink.table.resource.ResourceManager;
import org.apache.flink.util.FlinkUserCodeClassLoaders;
import org.apache.flink.util.MutableURLClassLoader;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URL;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * A session: its configuration, its catalogs, modules and functions (which outlive the
 * statements), its operations, and the one thread that runs its statements.
 *
 * <p>As in the gateway, every statement gets a fresh TableEnvironment built from the session's
 * current configuration over the session's catalogs, so {@code SET} takes effect for the next
 * statement (for instance {@code execution.savepoint.path} for the next INSERT).
 */
final class GatewaySession {

    private static final Logger LOG = LoggerFactory.getLogger(GatewaySession.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    final UUID id;
    /** The gateway's configuration, which RESET returns to. */
    final Configuration defaults;
    /** The session's configuration: the defaults, the properties given at open, then SETs. */
    final Configuration conf;

    final Semaphore operationLock = new Semaphore(1);
    private final ExecutorService thread;
    private final ReadWriteLock stateLock = new ReentrantReadWriteLock();
    private final Map<UUID, GatewayOperation> operations = new HashMap<>();
    private boolean running = true;
    private volatile long lastAccess = System.currentTimeMillis();

    // the session state, built on the session's thread
    MutableURLClassLoader userClassLoader;
    ResourceManager resourceManager;
    ModuleManager moduleManager;
    CatalogManager catalogManager;
    FunctionCatalog functionCatalog;

    // BEGIN STATEMENT SET ... END
    boolean statementSetState;
    final List<ModifyOperation> statementSetOperations = new ArrayList<>();

    GatewaySession(UUID id, Configuration defaults, Map<String, String> properties) throws Exception {
        this.id = id;
        this.defaults = defaults;
        this.conf = defaults.clone();
        this.conf.addAll(Configuration.fromMap(properties));
        // every session downloads resources into a directory of its own
        this.conf.set(
                TableConfigOptions.RESOURCES_DOWNLOAD_DIR,
                Paths.get(conf.get(TableConfigOptions.RESOURCES_DOWNLOAD_DIR), "sql-gateway-" + id)
                        .toAbsolutePath()
                        .toString());
        this.thread =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t =
                                    new Thread(
                                            r,
                                            "sql-gateway-operation-pool-thread-"
                                                    + THREADS.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        try {
            thread.submit(this::buildState).get();
        } catch (Exception e) {
            thread.shutdownNow();
            throw e;
        }
    }

    private Void buildState() throws Exception {
        userClassLoader =
                FlinkUserCodeClassLoaders.create(
                        new URL[0], GatewaySession.class.getClassLoader(), conf);
        resourceManager = new ResourceManager(conf, userClassLoader);
        moduleManager = new ModuleManager();
        GenericInMemoryCatalogStore store = new GenericInMemoryCatalogStore();
        store.open();
        CatalogStoreHolder catalogStore =
                CatalogStoreHolder.newBuilder()
                        .catalogStore(store)
                        .classloader(userClassLoader)
                        .config(conf)
                        .factory(new GenericInMemoryCatalogStoreFactory())
                        .build();
        EnvironmentSettings settings =
                EnvironmentSettings.newInstance().withConfiguration(conf).build();
        String catalogName = settings.getBuiltInCatalogName();
        Catalog catalog = new GenericInMemoryCatalog(catalogName, settings.getBuiltInDatabaseName());
        catalog.open();
        catalogManager =
                CatalogManager.newBuilder()
                        .classLoader(userClassLoader)
                        .config(conf)
                        .catalogModificationListeners(
                                TableFactoryUtil.findCatalogModificationListenerList(
                                        conf, userClassLoader))
                        .catalogStoreHolder(catalogStore)
                        .defaultCatalog(catalogName, catalog)
                        .build();
        functionCatalog = new FunctionCatalog(conf, resourceManager, catalogManager, moduleManager);
        return null;
    }

    void touch() {
        lastAccess = System.currentTimeMillis();
    }

    long lastAccess() {
        return lastAccess;
    }

    void submit(Runnable task) {
        thread.submit(task);
    }

    // ------------------------------------------------------------------------------------------
    // Configuration (SET / RESET)
    // ------------------------------------------------------------------------------------------

    /** Sets a key, after checking a statement could still be planned with it. */
    void set(String key, String value) {
        try {
            Configuration trial = new Configuration();
            trial.setString(key, value);
            new StatementExecutor(this, trial).tableEnvironment();
        } catch (Exception e) {
            throw ServerErrors.executionException(
                    String.format("Failed to set key %s with value %s.", key, value), e);
        }
        conf.setString(key, value);
    }

    synchronized void reset(String key) {
        if (defaults.containsKey(key)) {
            set(key, defaults.getString(key, null));
        } else {
            conf.removeKey(key);
        }
    }

    synchronized void resetAll() {
        for (String key : new ArrayList<>(conf.keySet())) {
            conf.removeKey(key);
        }
        conf.addAll(defaults);
    }

    // ------------------------------------------------------------------------------------------
    // Operations
    // ------------------------------------------------------------------------------------------

    GatewayOperation submitOperation(GatewayOperation.Work work) {
        GatewayOperation operation = new GatewayOperation(this, work);
        writeLock(() -> operations.put(operation.id, operation));
        operation.start();
        return operation;
    }

    GatewayOperation operation(UUID handle, String caller, String serviceMethod, int line) {
        return readLock(
                () -> {
                    GatewayOperation operation = operations.get(handle);
                    if (operation == null) {
                        throw ServerErrors.gatewayException(
                                String.format(
                                        "Can not find the submitted operation in the OperationManager with the %s.",
                                        handle),
                                null,
                                ServerErrors.operationLookupFrames(caller, serviceMethod, line));
                    }
                    return operation;
                });
    }

    void closeOperation(UUID handle) {
        writeLock(
                () -> {
                    GatewayOperation operation = operations.remove(handle);
                    if (operation != null) {
                        operation.close();
                    }
                });
    }

    /** Closes every operation (cancelling running queries), the catalogs and the class loader. */
    void close() {
        stateLock.writeLock().lock();
        try {
            running = false;
            for (GatewayOperation operation : operations.values()) {
                try {
                    operation.close();
                } catch (RuntimeException e) {
                    LOG.debug("Operation {} was already closed.", operation, e);
                }
            }
            operations.clear();
        } finally {
            stateLock.writeLock().unlock();
        }
        thread.shutdown();
        if (catalogManager != null) {
            for (String name : catalogManager.listCatalogs()) {
                try {
                    catalogManager.getCatalog(name).ifPresent(Catalog::close);
                } catch (Throwable t) {
                    LOG.error("Failed to close catalog {} for the session {}.", name, id, t);
                }
            }
        }
        try {
            if (userClassLoader != null) {
                userClassLoader.close();
            }
            if (resourceManager != null) {
                resourceManager.close();
            }
        } catch (Exception e) {
            LOG.error("Failed to release the resources of the session {}.", id, e);
        }
    }

    private void writeLock(Runnable action) {
        stateLock.writeLock().lock();
        try {
            checkRunning();
            action.run();
        } finally {
            stateLock.writeLock().unlock();
        }
    }

    private <T> T readLock(Supplier<T> action) {
        stateLock.readLock().lock();
        try {
            checkRunning();
            return action.get();
        } finally {
            stateLock.readLock().unlock();
        }
    }

    private void checkRunning() {
        if (!running) {
            throw ServerErrors.gatewayException(
                    "The OperationManager is closed.", null, ServerErrors.handlerFrames());
        }
    }
}
