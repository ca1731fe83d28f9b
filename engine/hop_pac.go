package engine

import (
	"fmt"
	"strconv"
	"strings"

	"edgeproxy/engine/cluster"
	"edgeproxy/engine/config"
)

// clusterPAC is the proxy auto-configuration file of pac.cluster: the
// browser hashes each URL as the nodes do (cluster.Table.AppendPAC) and
// sends it straight to its owner, with the other nodes after it in
// rendezvous order, so that no request needs a hop between nodes. The
// exceptions of the plain file (plain host names, localhost, 127.*,
// pac.direct_domains) go direct as there.
func clusterPAC(cfg *config.Config) ([]byte, error) {
	ms := make([]cluster.Member, len(cfg.Cluster.Peers))
	var b strings.Builder
	b.WriteString("var edgeproxyProxies = [")
	for i, p := range cfg.Cluster.Peers {
		ms[i] = cluster.Member{Name: p.Name, Weight: p.Weight}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote("PROXY " + p.Address))
	}
	b.WriteString("];\n")
	t, err := cluster.New(ms)
	if err != nil {
		return nil, err
	}
	b.Write(t.AppendPAC(nil))
	b.WriteString("function FindProxyForURL(url, host) {\n")
	b.WriteString("  if (isPlainHostName(host) || host == \"localhost\" || shExpMatch(host, \"127.*\")) return \"DIRECT\";\n")
	for _, d := range cfg.PAC.DirectDomains {
		d = strings.TrimPrefix(strings.TrimSuffix(d, "."), ".")
		fmt.Fprintf(&b, "  if (host == %s || dnsDomainIs(host, %s)) return \"DIRECT\";\n", strconv.Quote(d), strconv.Quote("."+d))
	}
	b.WriteString("  var order = edgeproxyOrder(url), out = [];\n")
	b.WriteString("  for (var i = 0; i < order.length; i++) out.push(edgeproxyProxies[order[i]]);\n")
	b.WriteString("  out.push(\"DIRECT\");\n")
	b.WriteString("  return out.join(\"; \");\n}\n")
	return []byte(b.String()), nil
}
