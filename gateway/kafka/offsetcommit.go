// OffsetCommit (key 8), versions 0-9: stores a group's consumed positions,
// durably (one fsynced store update per request) before answering.
//
// Who may commit is Kafka's rule (ClassicGroup.validateOffsetCommit): with
// generation -1 (v0 always) a simple consumer commits into an Empty group,
// which is created if needed; otherwise the member must belong to the group
// (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID for a replaced static member) at
// its current generation (ILLEGAL_GENERATION), and not while the group
// waits for its assignment (REBALANCE_IN_PROGRESS). A member's generation
// for a group that does not exist is ILLEGAL_GENERATION, GROUP_ID_NOT_FOUND
// from v9. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION and
// metadata over 4096 bytes OFFSET_METADATA_TOO_LARGE, each on its own. A
// member's commit counts as a heartbeat. The empty group id is a group like
// any other here (Kafka keeps it for old clients). Retention times (v2-v4), commit
// timestamps (v1) and the v9 KIP-848 member epoch semantics are ignored: a
// classic group reads the epoch field as its generation.
package kafka

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.OffsetCommit, MinVersion: 0, MaxVersion: 9, Handle: handleOffsetCommit})
}

func handleOffsetCommit(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.OffsetCommitRequest)
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		return commitOffsets(ctx, r, req), nil
	}), nil
}

// commitOffsets needs READ on the group and on each topic; it runs on the
// writer goroutine, where r's fields are still only read.
func commitOffsets(ctx context.Context, r *Request, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	s := r.Server
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	fill := func(code int16) *kmsg.OffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = code
			}
		}
		return resp
	}
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		return fill(kerr.GroupAuthorizationFailed.Code)
	}
	gen, memberID := req.Generation, req.MemberID
	if req.Version == 0 {
		gen, memberID = -1, ""
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return fill(coordinatorErrorCode(s, err))
	}
	g, err := c.group(req.Group, gen < 0)
	if err != nil {
		return fill(coordinatorErrorCode(s, err))
	}
	if g == nil {
		if req.Version >= 9 {
			return fill(kerr.GroupIDNotFound.Code)
		}
		return fill(kerr.IllegalGeneration.Code)
	}
	defer g.mu.Unlock()
	if g.cg != nil {
		if code := g.cg.validateOffsetCommit(memberID, gen, req.Version); code != 0 {
			return fill(code)
		}
	} else if code := g.validateOffsetCommit(memberID, req.InstanceID, gen); code != 0 {
		if m := g.members[memberID]; m != nil && code == kerr.RebalanceInProgress.Code {
			g.scheduleSession(m, m.session)
		}
		g.maybeRetire() // a group made for this request keeps nothing
		return fill(code)
	}
	if m := g.members[memberID]; m != nil {
		g.scheduleSession(m, m.session)
	}

	type commit struct {
		topic string
		p     int32
		o     committedOffset
		code  *int16
	}
	var commits []commit
	var writes []store.KV
	now := time.Now().UnixMilli()
	layouts := map[string]*store.Stream{}
	denied := map[string]bool{}
	for i, t := range req.Topics {
		st, ok := layouts[t.Topic]
		if !ok {
			if !r.topicAllowed(kmsg.ACLOperationRead, t.Topic) {
				denied[t.Topic] = true
			} else if d, err := s.store.DescribeStream(ctx, t.Topic); err == nil {
				st = &d
			}
			layouts[t.Topic] = st
		}
		for j, p := range t.Partitions {
			code := &resp.Topics[i].Partitions[j].ErrorCode
			switch {
			case denied[t.Topic]:
				*code = kerr.TopicAuthorizationFailed.Code
				continue
			case st == nil || p.Partition < 0 || int(p.Partition) >= len(st.Partitions):
				*code = kerr.UnknownTopicOrPartition.Code
				continue
			case p.Metadata != nil && len(*p.Metadata) > g.c.cfg.maxMetadataBytes:
				*code = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			o := committedOffset{offset: p.Offset, leaderEpoch: -1, commitMs: now, topicID: topicID(*st)}
			if req.Version >= 6 {
				o.leaderEpoch = p.LeaderEpoch
			}
			if p.Metadata != nil {
				o.metadata = *p.Metadata
			}
			commits = append(commits, commit{t.Topic, p.Partition, o, code})
			writes = append(writes, store.KV{Namespace: groupNamespace, Key: offsetKey(g.name, t.Topic, p.Partition), Value: o.encode()})
		}
	}
	if len(writes) == 0 {
		g.maybeRetire()
		return resp
	}
	if err := s.store.Update(context.Background(), writes...); err != nil {
		s.log.Warn("kafka: storing committed offsets failed", "group", g.name, "err", err)
		for _, cm := range commits {
			*cm.code = coordinatorErrorCode(s, err)
		}
		g.maybeRetire()
		return resp
	}
	for _, cm := range commits {
		if g.offsets[cm.topic] == nil {
			g.offsets[cm.topic] = map[int32]committedOffset{}
		}
		g.offsets[cm.topic][cm.p] = cm.o
	}
	g.cleanupTimer.stop()
	g.c.counters.commits.Add(int64(len(commits)))
	return resp
}

// validateOffsetCommit is Kafka's ClassicGroup.validateOffsetCommit.
func (g *group) validateOffsetCommit(memberID string, instanceID *string, gen int32) int16 {
	if g.state == groupDead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if gen < 0 && g.state == groupEmpty {
		// The admin client or a consumer without group management.
		return 0
	}
	if gen >= 0 || memberID != "" || instanceID != nil {
		if code := g.validateMember(memberID, instanceID); code != 0 {
			return code
		}
		if gen != g.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if g.state != groupEmpty {
		// No member id and no generation: only into an empty group.
		return unknownMemberCode
	}
	if g.state == groupCompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// coordinatorErrorCode is the code for a failure to reach a group's state:
// NOT_COORDINATOR while the server shuts down or its store closes (clients
// look for the coordinator again), COORDINATOR_NOT_AVAILABLE otherwise
// (clients retry).
func coordinatorErrorCode(s *Server, err error) int16 {
	switch {
	case errors.Is(err, errCoordinatorClosed), errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled):
		return notCoordinatorCode
	default:
		s.log.Warn("kafka: group coordinator error", "err", err)
		return kerr.CoordinatorNotAvailable.Code
	}
}
