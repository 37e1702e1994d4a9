package connect

// The settings every connector has, whatever its class (Kafka Connect's
// ConnectorConfig, SinkConnectorConfig and SourceConnectorConfig). The herder
// validates a configuration against CommonDef plus the plugin's own Config;
// the runtime reads them.
const (
	NameConfig           = "name"
	ConnectorClassConfig = "connector.class"
	TasksMaxConfig       = "tasks.max"
	KeyConverterConfig   = "key.converter"
	ValueConverterConfig = "value.converter"
	HeaderConverter      = "header.converter"
	ConfigActionReload   = "config.action.reload"
	TransformsConfig     = "transforms"
	PredicatesConfig     = "predicates"

	ErrorsRetryTimeout          = "errors.retry.timeout"
	ErrorsRetryMaxDelay         = "errors.retry.delay.max.ms"
	ErrorsTolerance             = "errors.tolerance"
	ErrorsLogEnable             = "errors.log.enable"
	ErrorsLogIncludeMessages    = "errors.log.include.messages"
	DLQTopicName                = "errors.deadletterqueue.topic.name"
	DLQTopicReplicationFactor   = "errors.deadletterqueue.topic.replication.factor"
	DLQContextHeadersEnable     = "errors.deadletterqueue.context.headers.enable"
	TopicsConfig                = "topics"
	TopicsRegexConfig           = "topics.regex"
	ExactlyOnceSupport          = "exactly.once.support"
	TransactionBoundary         = "transaction.boundary"
	TransactionBoundaryInterval = "transaction.boundary.interval.ms"
	OffsetsStorageTopic         = "offsets.storage.topic"
)

// The groups of the common settings, in the validate answer's order.
const (
	GroupCommon        = "Common"
	GroupTransforms    = "Transforms"
	GroupPredicates    = "Predicates"
	GroupErrorHandling = "Error Handling"
	GroupExactlyOnce   = "Exactly Once Support"
)

// CommonDef returns the common settings of a connector of type t
// (PluginSource or PluginSink).
func CommonDef(t PluginType) ConfigDef {
	def := ConfigDef{
		{Name: NameConfig, Type: ConfigString, Required: true, Importance: High, Group: GroupCommon, DisplayName: "Connector name",
			Doc: "Globally unique name to use for this connector.", Check: NonEmpty},
		{Name: ConnectorClassConfig, Type: ConfigString, Required: true, Importance: High, Group: GroupCommon, DisplayName: "Connector class",
			Doc: "Name or alias of the class for this connector."},
		{Name: TasksMaxConfig, Type: ConfigInt, Default: "1", Importance: High, Group: GroupCommon, DisplayName: "Tasks max",
			Doc: "Maximum number of tasks to use for this connector.", Check: AtLeast(1)},
		{Name: KeyConverterConfig, Type: ConfigClass, Importance: Low, Group: GroupCommon, DisplayName: "Key converter class",
			Doc: "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka; the worker's when unset."},
		{Name: ValueConverterConfig, Type: ConfigClass, Importance: Low, Group: GroupCommon, DisplayName: "Value converter class",
			Doc: "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka; the worker's when unset."},
		{Name: HeaderConverter, Type: ConfigClass, Importance: Low, Group: GroupCommon, DisplayName: "Header converter class",
			Doc: "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."},
		{Name: ConfigActionReload, Type: ConfigString, Default: "restart", Importance: Low, Group: GroupCommon, DisplayName: "Reload Action",
			Doc:         "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties.",
			Recommended: []string{"none", "restart"}},
		{Name: TransformsConfig, Type: ConfigList, Importance: Low, Group: GroupTransforms, DisplayName: "Transforms",
			Doc: "Aliases for the transformations to be applied to records."},
		{Name: PredicatesConfig, Type: ConfigList, Importance: Low, Group: GroupPredicates, DisplayName: "Predicates",
			Doc: "Aliases for the predicates used by transformations."},
		{Name: ErrorsRetryTimeout, Type: ConfigLong, Default: "0", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Retry Timeout for Errors",
			Doc:   "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.",
			Check: AtLeast(-1)},
		{Name: ErrorsRetryMaxDelay, Type: ConfigLong, Default: "60000", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Maximum Delay Between Retries for Errors",
			Doc: "The maximum duration in milliseconds between consecutive retry attempts.", Check: AtLeast(1)},
		{Name: ErrorsTolerance, Type: ConfigString, Default: "none", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Error Tolerance",
			Doc:         "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
			Recommended: []string{"none", "all"}},
		{Name: ErrorsLogEnable, Type: ConfigBoolean, Default: "false", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Log Errors",
			Doc: "If true, write each error and the details of the failed operation and problematic record to the log."},
		{Name: ErrorsLogIncludeMessages, Type: ConfigBoolean, Default: "false", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Log Error Details",
			Doc: "Whether to include in the log the Connect record that resulted in a failure."},
	}
	switch t {
	case PluginSink:
		def = append(def,
			ConfigKey{Name: TopicsConfig, Type: ConfigList, Importance: High, Group: GroupCommon, DisplayName: "Topics",
				Doc: "List of topics to consume, separated by commas"},
			ConfigKey{Name: TopicsRegexConfig, Type: ConfigString, Importance: High, Group: GroupCommon, DisplayName: "Topics regex",
				Doc: "Regular expression giving topics to consume."},
			ConfigKey{Name: DLQTopicName, Type: ConfigString, Importance: Medium, Group: GroupErrorHandling, DisplayName: "Dead Letter Queue Topic Name",
				Doc: "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters."},
			ConfigKey{Name: DLQTopicReplicationFactor, Type: ConfigInt, Default: "3", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Dead Letter Queue Topic Replication Factor",
				Doc: "Replication factor used to create the dead letter queue topic when it doesn't already exist."},
			ConfigKey{Name: DLQContextHeadersEnable, Type: ConfigBoolean, Default: "false", Importance: Medium, Group: GroupErrorHandling, DisplayName: "Enable Error Context Headers",
				Doc: "If true, add headers containing error context to the messages written to the dead letter queue."},
		)
	case PluginSource:
		def = append(def,
			ConfigKey{Name: ExactlyOnceSupport, Type: ConfigString, Default: "requested", Importance: Medium, Group: GroupExactlyOnce, DisplayName: "Exactly once support",
				Doc: "Whether the connector must be able to provide exactly-once semantics.", Recommended: []string{"requested", "required"}, CaseInsensitive: true},
			ConfigKey{Name: TransactionBoundary, Type: ConfigString, Default: "poll", Importance: Medium, Group: GroupExactlyOnce, DisplayName: "Transaction Boundary",
				Doc: "Permitted values are: poll, interval, connector.", Recommended: []string{"poll", "interval", "connector"}, CaseInsensitive: true},
			ConfigKey{Name: TransactionBoundaryInterval, Type: ConfigLong, Default: "-1", Importance: Low, Group: GroupExactlyOnce, DisplayName: "Transaction boundary interval",
				Doc: "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks."},
			ConfigKey{Name: OffsetsStorageTopic, Type: ConfigString, Importance: Low, Group: GroupExactlyOnce, DisplayName: "Offsets topic",
				Doc: "The name of a separate offsets topic to use for this connector."},
		)
	}
	return def
}
