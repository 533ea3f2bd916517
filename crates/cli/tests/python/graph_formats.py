"""Reads auditmesh's GraphML with networkx and its Neo4j import CSV files with the csv module,
and prints what they hold as one JSON object, for crates/cli/tests/store_cli.rs to compare with
the JSON form of the same answer.

Usage: python3 graph_formats.py FILE.graphml NEO4J_DIR
"""
import csv
import json
import os
import sys

import networkx as nx

graphml, neo4j_dir = sys.argv[1], sys.argv[2]
g = nx.read_graphml(graphml, force_multigraph=True)
nodes = {}
for node_id, attrs in g.nodes(data=True):
    nodes[node_id] = {k: attrs[k] for k in sorted(attrs)}
edges = sorted([u, v, d["op"], d["count"], d["bytes"]] for u, v, d in g.edges(data=True))
types = {}
for node_id, attrs in g.nodes(data=True):
    for k, v in attrs.items():
        types.setdefault(k, type(v).__name__)

csv_files = {}
for name in sorted(os.listdir(neo4j_dir)):
    with open(os.path.join(neo4j_dir, name), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body), f"{name}: a row's width differs from the header's"
    csv_files[name] = {"header": header, "rows": [dict(zip(header, r)) for r in body]}

print(json.dumps({
    "graph": {k: v for k, v in sorted(g.graph.items()) if k not in ("node_default", "edge_default")},
    "nodes": nodes,
    "edges": edges,
    "types": dict(sorted(types.items())),
    "csv": csv_files,
}, sort_keys=True))
