package flinkdeck.gateway;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonFormatOptions;
import org.apache.flink.formats.json.RowDataToJsonConverters;
import org.apache.flink.runtime.rest.util.RestMapperUtils;
import org.apache.flink.table.api.config.TableConfigOptions;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.MapData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BinaryType;
import org.apache.flink.table.types.logical.CharType;
import org.apache.flink.table.types.logical.DayTimeIntervalType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.MultisetType;
import org.apache.flink.table.types.logical.NullType;
import org.apache.flink.table.types.logical.RawType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimeType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.flink.table.types.logical.YearMonthIntervalType;
import org.apache.flink.table.types.logical.ZonedTimestampType;
import org.apache.flink.table.utils.DateTimeUtils;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;

/**
 * The gateway's JSON: result pages (columns with their logical types, rows in the JSON or
 * PLAIN_TEXT row format) and the small response bodies.
 *
 * <p>Values in the JSON row format go through Flink's own {@link RowDataToJsonConverters}
 * (flink-json), configured as the gateway configures it: ISO-8601 timestamps, literal map null
 * keys. TIMESTAMP_LTZ values are first shifted into the session's time zone, as the gateway does.
 */
final class JsonEncoding {

    /** The mapper Flink's REST handlers write responses with. */
    static final ObjectMapper MAPPER = RestMapperUtils.getStrictObjectMapper();

    /** The plain mapper the gateway builds row nodes with. */
    private static final ObjectMapper NODES = new ObjectMapper();

    private static final RowDataToJsonConverters TO_JSON =
            new RowDataToJsonConverters(
                    TimestampFormat.ISO_8601, JsonFormatOptions.MapNullKeyMode.LITERAL, "null", false);

    private JsonEncoding() {}

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    // ------------------------------------------------------------------------------------------
    // Fetch results
    // ------------------------------------------------------------------------------------------

    /**
     * The body of a fetch-results response. NOT_READY carries only the result type and the next
     * URI; EOS has no next URI.
     */
    static ObjectNode fetchResponse(
            ResultPage page, String rowFormat, String nextResultUri, Configuration sessionConfig) {
        ObjectNode body = object();
        body.put("resultType", page.type.name());
        if (page.type != ResultPage.Type.NOT_READY) {
            body.put("isQueryResult", page.isQueryResult);
            if (page.jobId != null) {
                body.put("jobID", page.jobId.toHexString());
            }
            if (page.resultKind == null) {
                body.putNull("resultKind");
            } else {
                body.put("resultKind", page.resultKind.name());
            }
            body.set("results", resultInfo(page, rowFormat, sessionConfig));
        }
        if (nextResultUri != null) {
            body.put("nextResultUri", nextResultUri);
        }
        return body;
    }

    private static ObjectNode resultInfo(
            ResultPage page, String rowFormat, Configuration sessionConfig) {
        List<Column> columns = page.schema.getColumns();
        List<LogicalType> types = new ArrayList<>();
        ArrayNode columnNodes = MAPPER.createArrayNode();
        for (Column column : columns) {
            LogicalType type = column.getDataType().getLogicalType();
            types.add(type);
            ObjectNode c = columnNodes.addObject();
            c.put("name", column.getName());
            c.set("logicalType", logicalType(type));
            String comment = column.getComment().orElse(null);
            if (comment == null) {
                c.putNull("comment");
            } else {
                c.put("comment", comment);
            }
        }
        ObjectNode info = object();
        info.set("columns", columnNodes);
        info.put("rowFormat", rowFormat);
        ArrayNode data = NODES.createArrayNode();
        if ("JSON".equals(rowFormat)) {
            TimeZone zone = TimeZone.getTimeZone(sessionZone(sessionConfig));
            boolean shift = hasLocalZonedTimestamp(types);
            List<RowDataToJsonConverters.RowDataToJsonConverter> converters = new ArrayList<>();
            List<RowData.FieldGetter> getters = new ArrayList<>();
            for (int i = 0; i < types.size(); i++) {
                converters.add(TO_JSON.createConverter(types.get(i)));
                getters.add(RowData.createFieldGetter(types.get(i), i));
            }
            for (RowData row : page.data) {
                RowData shown = shift ? toSessionZone(row, types, getters, zone) : row;
                ObjectNode node = data.addObject();
                node.put("kind", row.getRowKind().name());
                ArrayNode fields = node.putArray("fields");
                for (int i = 0; i < converters.size(); i++) {
                    fields.add(converters.get(i).convert(NODES, null, getters.get(i).getFieldOrNull(shown)));
                }
            }
        } else {
            for (RowData row : page.data) {
                String[] texts = page.converter.convert(row);
                ObjectNode node = data.addObject();
                node.put("kind", row.getRowKind().name());
                ArrayNode fields = node.putArray("fields");
                for (int i = 0; i < row.getArity(); i++) {
                    if (row.isNullAt(i)) {
                        fields.addNull();
                    } else {
                        fields.add(texts[i]);
                    }
                }
            }
        }
        info.set("data", data);
        return info;
    }

    // ------------------------------------------------------------------------------------------
    // Logical types, as the gateway's LogicalTypeJsonSerializer writes them
    // ------------------------------------------------------------------------------------------

    static ObjectNode logicalType(LogicalType type) {
        ObjectNode node = object();
        node.put("type", type.getTypeRoot().name());
        if (type instanceof NullType) {
            return node;
        }
        node.put("nullable", type.isNullable());
        switch (type.getTypeRoot()) {
            case BOOLEAN:
            case TINYINT:
            case SMALLINT:
            case INTEGER:
            case BIGINT:
            case FLOAT:
            case DOUBLE:
            case DATE:
                break;
            case CHAR:
                node.put("length", ((CharType) type).getLength());
                break;
            case VARCHAR:
                node.put("length", ((VarCharType) type).getLength());
                break;
            case BINARY:
                node.put("length", ((BinaryType) type).getLength());
                break;
            case VARBINARY:
                node.put("length", ((VarBinaryType) type).getLength());
                break;
            case DECIMAL:
                node.put("precision", ((DecimalType) type).getPrecision());
                node.put("scale", ((DecimalType) type).getScale());
                break;
            case TIME_WITHOUT_TIME_ZONE:
                node.put("precision", ((TimeType) type).getPrecision());
                break;
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                node.put("precision", ((TimestampType) type).getPrecision());
                break;
            case TIMESTAMP_WITH_TIME_ZONE:
                node.put("precision", ((ZonedTimestampType) type).getPrecision());
                break;
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                node.put("precision", ((LocalZonedTimestampType) type).getPrecision());
                break;
            case MAP:
                node.set("keyType", logicalType(((MapType) type).getKeyType()));
                node.set("valueType", logicalType(((MapType) type).getValueType()));
                break;
            case ARRAY:
                node.set("elementType", logicalType(((ArrayType) type).getElementType()));
                break;
            case MULTISET:
                node.set("elementType", logicalType(((MultisetType) type).getElementType()));
                break;
            case ROW:
                ArrayNode fields = node.putArray("fields");
                for (RowType.RowField field : ((RowType) type).getFields()) {
                    ObjectNode f = fields.addObject();
                    f.put("name", field.getName());
                    f.set("fieldType", logicalType(field.getType()));
                    field.getDescription().ifPresent(d -> f.put("description", d));
                }
                break;
            case INTERVAL_YEAR_MONTH:
                YearMonthIntervalType ym = (YearMonthIntervalType) type;
                node.put("precision", ym.getYearPrecision());
                node.put("resolution", ym.getResolution().toString());
                break;
            case INTERVAL_DAY_TIME:
                DayTimeIntervalType dt = (DayTimeIntervalType) type;
                node.put("precision", dt.getDayPrecision());
                node.put("fractionalPrecision", dt.getFractionalPrecision());
                node.put("resolution", dt.getResolution().toString());
                break;
            case RAW:
                if (type instanceof RawType) {
                    node.put("class", ((RawType<?>) type).getOriginatingClass().getName());
                    node.put("serializer", ((RawType<?>) type).getSerializerString());
                    break;
                }
                // fall through
            default:
                throw new UnsupportedOperationException(
                        String.format(
                                "Unable to serialize logical type '%s'. Please check the documentation for supported types.",
                                type.asSummaryString()));
        }
        return node;
    }

    // ------------------------------------------------------------------------------------------
    // TIMESTAMP_LTZ in the session's time zone
    // ------------------------------------------------------------------------------------------

    private static ZoneId sessionZone(Configuration config) {
        String zone = config.get(TableConfigOptions.LOCAL_TIME_ZONE);
        return TableConfigOptions.LOCAL_TIME_ZONE.defaultValue().equals(zone)
                ? ZoneId.systemDefault()
                : ZoneId.of(zone);
    }

    /** Whether a column holds TIMESTAMP_LTZ values, directly or inside a collection or row. */
    private static boolean hasLocalZonedTimestamp(List<LogicalType> types) {
        for (LogicalType type : types) {
            LogicalTypeRoot root = type.getTypeRoot();
            if (root == LogicalTypeRoot.TIMESTAMP_WITH_LOCAL_TIME_ZONE) {
                return true;
            }
            if ((root == LogicalTypeRoot.MAP
                            || root == LogicalTypeRoot.ARRAY
                            || root == LogicalTypeRoot.MULTISET
                            || root == LogicalTypeRoot.ROW)
                    && hasLocalZonedTimestamp(type.getChildren())) {
                return true;
            }
        }
        return false;
    }

    private static RowData toSessionZone(
            RowData row, List<LogicalType> types, List<RowData.FieldGetter> getters, TimeZone zone) {
        GenericRowData out = new GenericRowData(row.getRowKind(), row.getArity());
        for (int i = 0; i < types.size(); i++) {
            out.setField(i, shiftValue(getters.get(i).getFieldOrNull(row), types.get(i), zone));
        }
        return out;
    }

    /** Shifts TIMESTAMP_LTZ values, at the top level and inside maps and arrays (not rows). */
    private static Object shiftValue(Object value, LogicalType type, TimeZone zone) {
        if (value == null) {
            return null;
        }
        switch (type.getTypeRoot()) {
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return DateTimeUtils.timestampWithLocalZoneToTimestamp((TimestampData) value, zone);
            case MAP:
                {
                    MapType mapType = (MapType) type;
                    MapData map = (MapData) value;
                    ArrayData keys = map.keyArray();
                    ArrayData values = map.valueArray();
                    ArrayData.ElementGetter keyGetter =
                            ArrayData.createElementGetter(mapType.getKeyType());
                    ArrayData.ElementGetter valueGetter =
                            ArrayData.createElementGetter(mapType.getValueType());
                    Map<Object, Object> shifted = new HashMap<>();
                    for (int j = 0; j < keys.size(); j++) {
                        shifted.put(
                                shiftValue(keyGetter.getElementOrNull(keys, j), mapType.getKeyType(), zone),
                                shiftValue(
                                        valueGetter.getElementOrNull(values, j),
                                        mapType.getValueType(),
                                        zone));
                    }
                    return new GenericMapData(shifted);
                }
            case ARRAY:
                {
                    LogicalType elementType = ((ArrayType) type).getElementType();
                    ArrayData array = (ArrayData) value;
                    ArrayData.ElementGetter getter = ArrayData.createElementGetter(elementType);
                    Object[] shifted = new Object[array.size()];
                    for (int j = 0; j < array.size(); j++) {
                        shifted[j] = shiftValue(getter.getElementOrNull(array, j), elementType, zone);
                    }
                    return new GenericArrayData(shifted);
                }
            default:
                return value;
        }
    }
}
