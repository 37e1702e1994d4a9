package kafka

// A second client: sarama's ClusterAdmin, at an old protocol level (Kafka
// 1.1: CreateTopics v2, DescribeConfigs v1, DeleteTopics v1, ...) and a
// recent one (3.6), so both low and high versions meet a real client.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/IBM/sarama"
)

func TestAdminSarama(t *testing.T) {
	for _, version := range []sarama.KafkaVersion{sarama.V1_1_0_0, sarama.V3_6_0_0} {
		t.Run(version.String(), func(t *testing.T) {
			e := startAdminEnv(t, "", nil)
			cfg := sarama.NewConfig()
			cfg.Version = version
			cfg.ClientID = "admin-sarama-test"
			admin, err := sarama.NewClusterAdmin([]string{e.addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()

			retention := "7200000"
			err = admin.CreateTopic("sarama-t", &sarama.TopicDetail{
				NumPartitions: 2, ReplicationFactor: 1,
				ConfigEntries: map[string]*string{"retention.ms": &retention},
			}, false)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			topics, err := admin.ListTopics()
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := topics["sarama-t"]; !ok || d.NumPartitions != 2 {
				t.Errorf("listed: %+v", topics)
			}

			described, err := admin.DescribeConfigs([]*sarama.ConfigResource{{Type: sarama.TopicResource, Name: "sarama-t"}}, sarama.DescribeConfigsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(described) != 1 || described[0].ErrorCode != sarama.ErrNoError {
				t.Fatalf("described: %+v", described)
			}
			byName := map[string]sarama.ConfigEntry{}
			for _, c := range described[0].Configs {
				byName[c.Name] = c
			}
			if c := byName["retention.ms"]; c.Value != retention || c.Default || c.Source != sarama.SourceTopic {
				t.Errorf("retention.ms: %+v", c)
			}
			if c := byName["cleanup.policy"]; c.Value != "delete" || !c.Default || c.Source != sarama.SourceDefault {
				t.Errorf("cleanup.policy: %+v", c)
			}
			if c := byName["min.insync.replicas"]; c.Value != "1" || !c.ReadOnly {
				t.Errorf("min.insync.replicas: %+v", c)
			}

			mmb := "3000000"
			if err := admin.AlterConfig(sarama.TopicResource, "sarama-t", map[string]*string{"max.message.bytes": &mmb}, false); err != nil {
				t.Fatalf("alter: %v", err)
			}
			st, _ := e.store.DescribeStream(context.Background(), "sarama-t")
			if tc := TopicConfigFor(&st); tc.MaxMessageBytes != 3000000 || tc.RetentionMs != DefaultRetentionMs {
				t.Errorf("after AlterConfigs (replaces the set): %+v", tc)
			}
			if err := admin.CreatePartitions("sarama-t", 3, nil, false); err != nil {
				t.Fatalf("create partitions: %v", err)
			}

			// Refusals come back as sarama's own errors.
			var te *sarama.TopicError
			err = admin.CreateTopic("sarama bad", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false)
			if !errors.As(err, &te) || te.Err != sarama.ErrInvalidTopic {
				t.Errorf("bad name: %v", err)
			}
			shred := "compact,shred"
			err = admin.CreateTopic("sarama-c", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
				ConfigEntries: map[string]*string{"cleanup.policy": &shred}}, false)
			if !errors.As(err, &te) || te.Err != sarama.ErrInvalidConfig || !strings.Contains(err.Error(), "one of: compact, delete") {
				t.Errorf("compact,shred: %v", err)
			}
			err = admin.CreateTopic("sarama-r", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 3}, false)
			if !errors.As(err, &te) || te.Err != sarama.ErrInvalidReplicationFactor {
				t.Errorf("replication factor 3: %v", err)
			}

			if err := admin.DeleteTopic("sarama-t"); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if err := admin.DeleteTopic("sarama-t"); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				t.Errorf("delete again: %v", err)
			}
			if names, _ := e.store.ListStreams(context.Background()); len(names) != 0 {
				t.Errorf("left: %v", names)
			}
		})
	}
}
