// ApiVersions (key 18), versions 0-4: lists every registered API with the
// version range its handler answers, straight from the registry, so what is
// advertised is what is served. A request at a version above 4 cannot be
// decoded (newer clients send their newest version first); conn.go answers
// it with a v0 response carrying UNSUPPORTED_VERSION and ApiVersions' own
// range, and the client retries at our newest, as KIP-511 prescribes. v3+
// requests carry the client's software name and version, which we log at
// debug level only.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.ApiVersions, MinVersion: 0, MaxVersion: 4, Handle: handleAPIVersions})
}

func handleAPIVersions(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ApiVersionsRequest)
	if r.Version >= 3 && req.ClientSoftwareName != "" {
		r.Server.log.Debug("kafka client", "remote", r.Remote.String(),
			"software", req.ClientSoftwareName, "version", req.ClientSoftwareVersion)
	}
	return Respond(apiVersionsResponse(r.Version, 0)), nil
}

// apiVersionsResponse lists the registry at version v with errorCode.
func apiVersionsResponse(v int16, errorCode int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = v
	resp.ErrorCode = errorCode
	for _, api := range registeredAPIs() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey = int16(api.Key)
		k.MinVersion = api.MinVersion
		k.MaxVersion = api.MaxVersion
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	addTxnVersionFeature(resp) // txn_v2.go
	return resp
}

// unsupportedAPIVersions is the answer to an ApiVersions request at a
// version we do not speak: encoded as v0, with UNSUPPORTED_VERSION and
// ApiVersions' own range alone, as Kafka answers since KIP-511 (2.4). The
// single key is what tells a client to retry at our newest version; given
// every key, franz-go takes the v0 answer as the list and never learns the
// features (transaction.version) that only v3+ answers carry: its
// transactional producers then began on transactions v1 and switched to
// KIP-890 part 2 at their first EndTxn, which Kafka's never do.
func unsupportedAPIVersions() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	api, _ := lookup(int16(kmsg.ApiVersions))
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MinVersion, k.MaxVersion = int16(kmsg.ApiVersions), api.MinVersion, api.MaxVersion
	resp.ApiKeys = append(resp.ApiKeys, k)
	return resp
}
