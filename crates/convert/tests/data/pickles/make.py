"""Writes the pickle fixtures of the SkyPilot tests: `python make.py .` once with numpy 1.x
and once with numpy 2.x (crates/convert/tests/skypilot_pickle.rs reads them)."""
import os, pickle, sys
import numpy as np
out = sys.argv[1]
major = np.__version__.split(".")[0]
v = np.array([0.5, -1.25, 3.0, 1e-3], dtype=np.float32)
for proto in (2, 3, 4, 5):
    for dtype in ("<f2", "<f4", "<f8", ">f8"):
        name = f"numpy{major}-p{proto}-{dtype.replace('<', 'le').replace('>', 'be')}.pkl"
        with open(os.path.join(out, name), "wb") as f:
            f.write(pickle.dumps(("0000/7.jpg", v.astype(dtype)), protocol=proto))
if major == "2":
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch /tmp/oembeddings-pwned",))
    with open(os.path.join(out, "evil-os-system.pkl"), "wb") as f:
        f.write(pickle.dumps(("x", Evil()), protocol=4))
    with open(os.path.join(out, "two-dimensional.pkl"), "wb") as f:
        f.write(pickle.dumps(("x", np.zeros((2, 2), dtype=np.float32)), protocol=4))
    with open(os.path.join(out, "int-array.pkl"), "wb") as f:
        f.write(pickle.dumps(("x", np.arange(3, dtype=np.int64)), protocol=4))
    with open(os.path.join(out, "list.pkl"), "wb") as f:
        f.write(pickle.dumps(("x", [1.0, 2.0]), protocol=4))
