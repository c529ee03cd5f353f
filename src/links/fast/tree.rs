//! The element skeleton: which element is where, and nothing else.
//!
//! The reference reports links in the order of the *final* tree, and the tree construction rules
//! do move things: foster parenting puts misplaced table content before the table, the adoption
//! agency reparents misnested formatting elements, `<frameset>` detaches a whole `<body>`, and
//! template contents live outside the document. So the fast extractor keeps the same tree, minus
//! everything a link cannot depend on: no text, no comments, no attributes, just elements with
//! their name and, for the elements that carry links, the index of their link record (see
//! `builder::Rec`). It is a flat arena with `u32`
//! links; a document of a few hundred elements costs a few kilobytes, which the next document
//! of the same extractor reuses.

use super::names::{El, Ns};

/// "No node".
pub(super) const NONE: u32 = u32::MAX;

/// The document node's id.
pub(super) const DOCUMENT: u32 = 0;

/// One node of the skeleton.
#[derive(Clone, Copy, Debug)]
pub(super) struct Node {
    /// Namespace and name (the document and template fragments get an unused name).
    pub(super) el: El,
    /// Parent, or `NONE` when detached or a root.
    parent: u32,
    /// First child.
    first: u32,
    /// Last child.
    last: u32,
    /// Previous sibling.
    prev: u32,
    /// Next sibling.
    next: u32,
    /// Index of the element's link record (`Builder::recs`), `NONE` when it carries no link.
    pub(super) rec: u32,
    /// For an HTML `template`: its contents fragment.
    pub(super) contents: u32,
    /// On the stack of open elements right now.
    pub(super) open: bool,
    /// A MathML `annotation-xml` whose `encoding` makes it an HTML integration point.
    pub(super) annotation_html: bool,
}

/// The arena.
#[derive(Debug)]
pub(super) struct Tree {
    /// All nodes, by id; id 0 is the document.
    nodes: Vec<Node>,
}

impl Tree {
    /// A tree with just the document node, with room for `capacity` nodes.
    #[cfg(test)]
    pub(super) fn new(capacity: usize) -> Tree {
        Tree::reusing(Vec::new(), capacity)
    }

    /// [`Tree::new`] in the allocation of `nodes` (left by [`Tree::into_nodes`]), emptied first.
    pub(super) fn reusing(mut nodes: Vec<Node>, capacity: usize) -> Tree {
        nodes.clear();
        nodes.reserve(capacity);
        let mut tree = Tree { nodes };
        tree.push(El {
            ns: Ns::Html,
            name: super::names::Name(u32::MAX),
        });
        tree
    }

    fn push(&mut self, el: El) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            el,
            parent: NONE,
            first: NONE,
            last: NONE,
            prev: NONE,
            next: NONE,
            rec: NONE,
            contents: NONE,
            open: false,
            annotation_html: false,
        });
        id
    }

    /// The node arena, for [`Tree::reusing`] (which empties it).
    pub(super) fn into_nodes(self) -> Vec<Node> {
        self.nodes
    }

    /// Creates a detached element (with its contents fragment if it is an HTML `template`).
    pub(super) fn create(&mut self, el: El, rec: u32, annotation_html: bool) -> u32 {
        let id = self.push(el);
        if el.is(super::names::TEMPLATE) {
            let contents = self.push(El {
                ns: Ns::Html,
                name: super::names::Name(u32::MAX),
            });
            self.nodes[id as usize].contents = contents;
        }
        let node = &mut self.nodes[id as usize];
        node.rec = rec;
        node.annotation_html = annotation_html;
        id
    }

    /// The node `id`.
    pub(super) fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    /// The node `id`, mutably.
    pub(super) fn node_mut(&mut self, id: u32) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    /// Namespace and name of `id`.
    pub(super) fn el(&self, id: u32) -> El {
        self.nodes[id as usize].el
    }

    /// Whether `id` has a parent.
    pub(super) fn has_parent(&self, id: u32) -> bool {
        self.nodes[id as usize].parent != NONE
    }

    /// Appends the detached `child` as the last child of `parent`.
    pub(super) fn append(&mut self, parent: u32, child: u32) {
        debug_assert_eq!(self.nodes[child as usize].parent, NONE);
        let last = self.nodes[parent as usize].last;
        {
            let c = &mut self.nodes[child as usize];
            c.parent = parent;
            c.prev = last;
            c.next = NONE;
        }
        if last == NONE {
            self.nodes[parent as usize].first = child;
        } else {
            self.nodes[last as usize].next = child;
        }
        self.nodes[parent as usize].last = child;
    }

    /// Inserts `child` (detaching it first) right before `sibling`, which has a parent.
    pub(super) fn insert_before(&mut self, sibling: u32, child: u32) {
        self.detach(child);
        let parent = self.nodes[sibling as usize].parent;
        let prev = self.nodes[sibling as usize].prev;
        {
            let c = &mut self.nodes[child as usize];
            c.parent = parent;
            c.prev = prev;
            c.next = sibling;
        }
        self.nodes[sibling as usize].prev = child;
        if prev == NONE {
            self.nodes[parent as usize].first = child;
        } else {
            self.nodes[prev as usize].next = child;
        }
    }

    /// Removes `id` from its parent, if it has one.
    pub(super) fn detach(&mut self, id: u32) {
        let Node {
            parent, prev, next, ..
        } = self.nodes[id as usize];
        if parent == NONE {
            return;
        }
        if prev == NONE {
            self.nodes[parent as usize].first = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NONE {
            self.nodes[parent as usize].last = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        let n = &mut self.nodes[id as usize];
        n.parent = NONE;
        n.prev = NONE;
        n.next = NONE;
    }

    /// Moves all children of `from` to the end of `to`'s children, in order.
    pub(super) fn reparent_children(&mut self, from: u32, to: u32) {
        let mut child = self.nodes[from as usize].first;
        while child != NONE {
            let next = self.nodes[child as usize].next;
            let n = &mut self.nodes[child as usize];
            n.parent = NONE;
            n.prev = NONE;
            n.next = NONE;
            self.append(to, child);
            child = next;
        }
        let f = &mut self.nodes[from as usize];
        f.first = NONE;
        f.last = NONE;
    }

    /// Calls `visit` on every node reachable from the document, in tree order (the order
    /// `select` numbers its nodes in, and so the order its `find` returns them).
    pub(super) fn preorder(&self, mut visit: impl FnMut(&Node)) {
        let mut id = self.nodes[DOCUMENT as usize].first;
        while id != NONE {
            let node = &self.nodes[id as usize];
            visit(node);
            if node.first != NONE {
                id = node.first;
                continue;
            }
            // Climb until a node with a next sibling; stop at the document.
            let mut up = id;
            loop {
                let n = &self.nodes[up as usize];
                if n.next != NONE {
                    id = n.next;
                    break;
                }
                up = n.parent;
                if up == DOCUMENT || up == NONE {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
impl Tree {
    /// Every element reachable from the document, in tree order, with its depth.
    pub(super) fn elements_with_depth(&self) -> Vec<(usize, El)> {
        fn walk(tree: &Tree, id: u32, depth: usize, out: &mut Vec<(usize, El)>) {
            let mut child = tree.nodes[id as usize].first;
            while child != NONE {
                out.push((depth, tree.nodes[child as usize].el));
                walk(tree, child, depth + 1, out);
                child = tree.nodes[child as usize].next;
            }
        }
        let mut out = Vec::new();
        walk(self, DOCUMENT, 0, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::names::{A, B, DIV};
    use super::*;

    fn el(name: super::super::names::Name) -> El {
        El { ns: Ns::Html, name }
    }

    fn order(tree: &Tree) -> Vec<u32> {
        let mut out = Vec::new();
        tree.preorder(|n| out.push(n.rec));
        out
    }

    #[test]
    fn append_insert_detach_reparent() {
        let mut t = Tree::new(0);
        let root = t.create(el(DIV), 0, false);
        t.append(DOCUMENT, root);
        let a = t.create(el(A), 1, false);
        let b = t.create(el(B), 2, false);
        let c = t.create(el(A), 3, false);
        t.append(root, a);
        t.append(a, b);
        t.append(root, c);
        assert_eq!(order(&t), [0, 1, 2, 3]);
        t.insert_before(a, c);
        assert_eq!(order(&t), [0, 3, 1, 2]);
        t.reparent_children(a, c);
        assert_eq!(order(&t), [0, 3, 2, 1]);
        t.detach(c);
        assert_eq!(order(&t), [0, 1]);
        t.append(a, c);
        assert_eq!(order(&t), [0, 1, 3, 2]);
    }
}
