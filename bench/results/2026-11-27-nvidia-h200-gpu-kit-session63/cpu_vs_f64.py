# The CPU bundle's SGD step against torchvision float64 on the CPU (same measure as the kit's torch_check).
# usage: cpu_vs_f64.py DIR CASE TORCHVISION_NAME CLASSES (DIR: w0.safetensors and step.safetensors of `vidrun step`;
#        CASE: a kit case directory with clips.npy and labels.npy)
import os, sys, numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../scripts/gpu-kit'))
from torch_check import load_safetensors, model, rel, NEGLIGIBLE_UPDATE
w, case, tv, classes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
w0 = load_safetensors(f'{w}/w0.safetensors'); ours = load_safetensors(f'{w}/step.safetensors')
x = torch.from_numpy(np.load(f'{case}/clips.npy')); y = torch.from_numpy(np.load(f'{case}/labels.npy'))
def step(m, clips):
    m.train(); opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    F.cross_entropy(m(clips), y).backward(); opt.step()
    return {k: v.detach().double().numpy() for k, v in m.state_dict().items()}
ref = step(model(tv, classes, w0).double(), x.double()); t32 = step(model(tv, classes, w0), x)
res = []
for k, want in ref.items():
    if k.endswith('num_batches_tracked'): continue
    base = w0[k].astype(np.float64)
    if np.abs(want - base).max() <= NEGLIGIBLE_UPDATE * max(np.abs(base).max(), 1e-30): continue
    res.append((rel(ours[k] - base, want - base), rel(t32[k] - base, want - base), k))
res.sort(reverse=True)
for r in res[:5]: print('cpu %.2e torch f32 %.2e %s' % r)
print('worst torch f32 update', max(r[1] for r in res))
