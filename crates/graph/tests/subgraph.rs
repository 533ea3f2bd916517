//! `Subgraph`: answers taken out of the graph of a real kernel log
//! (`fixtures/kernel/provenance-enriched`) keep exactly the trace's entities and edges, with
//! their attributes.

mod support;

use graph::subgraph::{Answer, Attr, AttrValue, Subgraph};
use graph::trace::{path, trace, Direction, Limits};
use graph::{describe, tree, Config, EntityId, Graph};

const PROVENANCE: &[u8] = include_bytes!("../../../fixtures/kernel/provenance-enriched/audit.log");

fn file_named(g: &Graph, name: &str) -> EntityId {
    let host = g.host(b"web-01").expect("the fixture's node");
    g.latest_version(g.name_history(host, name.as_bytes()).last().expect("bound").file)
}

fn socket(g: &Graph, port: u16) -> EntityId {
    g.entities()
        .find(|(_, e)| matches!(&e.detail, graph::Detail::Socket(s) if s.port == Some(port)))
        .map(|(id, _)| id)
        .expect("the socket")
}

#[test]
fn a_trace_keeps_its_entities_edges_and_depths() {
    let (g, _) = support::build(PROVENANCE, Config::default());
    let second = file_named(&g, "/srv/amwork/wl/dl/second.txt");
    let t = trace(&g, second, None, Direction::Back, &Limits::default());
    let s = Subgraph::from_trace(&g, &t);
    assert_eq!(s.answer, Answer::Trace(Direction::Back));
    assert_eq!(s.start, Some(u64::from(second.0)));
    assert_eq!(
        s.nodes.iter().map(|n| n.id).collect::<Vec<_>>(),
        t.reached.iter().map(|r| u64::from(r.entity.0)).collect::<Vec<_>>()
    );
    assert_eq!(s.edges.len(), t.edges.len());
    for n in &s.nodes {
        let r = t.reached.iter().find(|r| u64::from(r.entity.0) == n.id).unwrap();
        assert_eq!(n.int(Attr::Depth), Some(u64::from(r.depth)));
        assert_eq!(n.label, describe::entity(&g, r.entity));
        // attributes in Attr::ALL order, each of its declared type and kind
        let order: Vec<Attr> = n.attrs.iter().map(|(a, _)| *a).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        for (a, _) in &n.attrs {
            assert!(a.applies_to(n.kind), "{a:?} on a {:?}", n.kind);
        }
    }
    // edges in the order the builder consumed their first events (not by milliseconds: a
    // blocking syscall's time is when it entered)
    let mut order = t.edges.clone();
    order.sort_by_key(|&e| (g.edge(e).first, e));
    let expected: Vec<(u64, u64)> =
        order.iter().map(|&e| (u64::from(g.edge(e).from.0), u64::from(g.edge(e).to.0))).collect();
    assert_eq!(s.edges.iter().map(|e| (e.from, e.to)).collect::<Vec<_>>(), expected);
    assert_eq!(s.hubs.len(), t.hubs.len());
    assert!(!s.incomplete);

    let curl = s
        .nodes
        .iter()
        .find(|n| n.get(Attr::Exe) == Some(&AttrValue::Bytes(b"/usr/bin/curl".to_vec())))
        .expect("curl is a cause");
    assert_eq!(curl.int(Attr::Pid), Some(29259));
    assert_eq!(
        curl.get(Attr::Argv),
        Some(&AttrValue::List(vec![
            b"/usr/bin/curl".to_vec(),
            b"-s".to_vec(),
            b"-o".to_vec(),
            b"/srv/amwork/wl/dl/payload.sh".to_vec(),
            b"http://127.0.0.1:18095/payload.sh".to_vec()
        ]))
    );
}

#[test]
fn a_path_lists_its_entities_in_order() {
    let (g, _) = support::build(PROVENANCE, Config::default());
    let second = file_named(&g, "/srv/amwork/wl/dl/second.txt");
    let sock = socket(&g, 18095);
    let chain = path(&g, sock, second, &Limits::default()).expect("a path");
    let s = Subgraph::from_path(&g, &chain);
    assert_eq!(s.answer, Answer::Path);
    assert_eq!(s.start, Some(u64::from(sock.0)));
    assert_eq!(s.nodes.last().map(|n| n.id), Some(u64::from(second.0)));
    assert_eq!(s.edges.len(), chain.len());
    let steps: Vec<String> = s
        .edges
        .iter()
        .map(|e| format!("{} -{}-> {}", s.node(e.from).unwrap().label, e.op.as_str(), s.node(e.to).unwrap().label))
        .collect();
    let expected: Vec<String> = chain.iter().map(|&e| describe::edge(&g, e)).collect();
    assert_eq!(steps, expected);
    let depths: Vec<u64> = s.nodes.iter().map(|n| n.int(Attr::Depth).unwrap()).collect();
    assert_eq!(depths, (0..s.nodes.len() as u64).collect::<Vec<_>>());
}

#[test]
fn a_tree_lists_versions_then_children() {
    let (g, _) = support::build(PROVENANCE, Config::default());
    let host = g.host(b"web-01").unwrap();
    let root = *g.processes_with_pid(host, 29253).first().expect("the script's shell");
    let t = tree::process_tree(&g, root);
    let s = Subgraph::from_tree(&g, &t);
    assert_eq!(s.answer, Answer::Tree);
    // three versions of 29253 (bash, env, bash), then 13 children with two versions each
    assert_eq!(s.nodes.len(), 29);
    assert_eq!(s.edges.len(), 28);
    let first: Vec<(u64, u64)> =
        s.nodes.iter().take(4).map(|n| (n.int(Attr::Pid).unwrap(), n.int(Attr::Depth).unwrap())).collect();
    assert_eq!(first, [(29253, 0), (29253, 0), (29253, 0), (29254, 1)]);
}
