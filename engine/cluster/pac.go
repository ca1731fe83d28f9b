package cluster

import (
	"strconv"
)

// AppendPAC appends JavaScript that defines edgeproxyOrder(url): the member
// indexes from the highest CARP score for url to the lowest, computed
// exactly as Order computes them. A proxy auto-configuration file calls it
// to send each URL straight to its owner, with the others as fallbacks.
//
// The URL is hashed as its UTF-8 bytes, the way Go sees a request target.
// Member hashes go in as integers and multipliers as float64 literals that
// round-trip exactly, so no floating-point function is evaluated twice.
func (t *Table) AppendPAC(dst []byte) []byte {
	dst = append(dst, "var edgeproxyMembers = ["...)
	for i := range t.hash {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, '[')
		dst = strconv.AppendUint(dst, uint64(t.hash[i]), 10)
		dst = append(dst, ", "...)
		dst = strconv.AppendFloat(dst, t.mult[i], 'g', -1, 64)
		dst = append(dst, ']')
	}
	dst = append(dst, "];\n"...)
	return append(dst, pacFunctions...)
}

// pacFunctions is the JavaScript twin of URLHash, combine and Order. Every
// uint32 step ends in >>> 0; Math.imul keeps the low 32 bits of a product.
const pacFunctions = `function edgeproxyURLHash(url) {
  var s = unescape(encodeURIComponent(url));
  var h = 0;
  for (var i = 0; i < s.length; i++) {
    h = (h + ((h << 19) | (h >>> 13)) + s.charCodeAt(i)) >>> 0;
  }
  return h;
}
function edgeproxyOrder(url) {
  var h = edgeproxyURLHash(url);
  var scored = [];
  for (var j = 0; j < edgeproxyMembers.length; j++) {
    var c = (h ^ edgeproxyMembers[j][0]) >>> 0;
    c = (c ^ (c >>> 16)) >>> 0;
    c = Math.imul(c, 0x85ebca6b) >>> 0;
    c = (c ^ (c >>> 13)) >>> 0;
    c = Math.imul(c, 0xc2b2ae35) >>> 0;
    c = (c ^ (c >>> 16)) >>> 0;
    scored.push([j, c * edgeproxyMembers[j][1]]);
  }
  scored.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
  var order = [];
  for (var k = 0; k < scored.length; k++) order.push(scored[k][0]);
  return order;
}
`
