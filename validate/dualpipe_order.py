# dualpipe_order.py DUALPIPE_PY PP M: runs the body of deepseek-ai/DualPipe's
# DualPipe.step() (dualpipe/dualpipe.py; its eight steps, verbatim, read from
# the file) against a recorder in place of the module and communication
# calls, and prints each rank's compute order in clustersim's numbering, one
# line per rank: "F3.0" the forward of microbatch 3 through chunk 0 (chunk 0:
# direction 0, microbatches 0 .. M/2-1; chunk 1: direction 1, M/2 .. M-1),
# B the input gradient, W the weight gradient, "&" the units of one
# overlapped F&B unit (_forward_backward_chunk).  A backward without zero
# bubble is B with its W at once; deferred Ws leave WeightGradStore's queue
# first in, first out.  validate/schedules.md compares it with ours.
import re, sys
src = open(sys.argv[1]).read()
body = src[src.index('        num_half_ranks = num_ranks // 2'):src.index('        assert WeightGradStore.funcs_queue.empty()')]
# keep only the schedule: from "# Step 1" on, plus the half-rank set-up lines
setup = body[:body.index('        if not self.forward_only')]
steps = body[body.index('        # Step 1: nF0'):]
code = 'def run(self, num_ranks, rank, num_chunks):\n' + setup + steps
ns = {}
exec(code, ns)

class Rec:
    def __init__(self, pp, r, m):
        self.rank, self.num_ranks = r, pp
        self.is_middle_rank = r in (pp // 2 - 1, pp // 2)
        self.is_in_second_half = r >= pp // 2
        self.hm = m // 2
        self.nf = [0, 0]; self.nb = [0, 0]; self.wq = []; self.out = []
    def _ch(self, phase): return phase ^ self.is_in_second_half
    def _f(self, phase, tag=''):
        c = self._ch(phase); mb = c * self.hm + self.nf[c]; self.nf[c] += 1
        self.out.append('%sF%d.%d' % (tag, mb, c))
    def _b(self, phase, zb, tag=''):
        c = self._ch(phase); mb = c * self.hm + self.nb[c]; self.nb[c] += 1
        self.out.append('%sB%d.%d' % (tag, mb, c))
        if zb: self.wq.append('W%d.%d' % (mb, c))
        else: self.out.append('%sW%d.%d' % (tag, mb, c))
    def _forward_chunk(self, phase, recv=True, send=True): self._f(phase)
    def _backward_chunk(self, phase, enable_zb=False, recv=True, send=True): self._b(phase, enable_zb)
    def _forward_backward_chunk(self, p0, p1, recv0=True):
        self._f(p0, '&'); self._b(p1, False, '&')
    def _weight_chunk(self): self.out.append(self.wq.pop(0))
    def _recv_forward(self, *a, **k): pass
    def _send_forward(self, *a, **k): pass
    def _send_backward(self, *a, **k): pass

pp, m = int(sys.argv[2]), int(sys.argv[3])
for r in range(pp):
    rec = Rec(pp, r, m)
    ns['run'](rec, pp, r, m)
    assert not rec.wq
    print(' '.join(rec.out))
