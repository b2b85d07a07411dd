import backprop_cli as bp

t = bp.trace("classic_2_2_2")
q = t["o.dL_dw1_1"]
print(q.value, q.factors)
print(q.formula(bp.NumberFormat()), "=", q.written(bp.NumberFormat()))
print(q.recompute({"o.delta1": 0.1}))  # a student's δ with the trace's own h.a1
print([q.name for q in t.quantities(phase="update", layer="o")][:3])
print(t.explain("o.dL_dw1_1", depth=1))

e = bp.expression("f = (x + y) * z", x=-2, y=5, z=-4)
print(e["grad.x"].value, e.to_dict()["summary"]["gradients"])
