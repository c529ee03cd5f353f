//! The list of active formatting elements and the algorithms around it: reconstruction (which
//! clones `<a>` elements, link record and all), the Noah's Ark clause, the adoption agency and
//! misnested `<a>` handling, as html5ever 0.26 implements them.

use super::super::names::*;
use super::super::token::Attrs;
use super::{Builder, Fmt, FmtTag};

impl Builder {
    /// Entries after the last marker, last first.
    fn fmt_to_marker(&self) -> impl Iterator<Item = (usize, u32, FmtTag)> + '_ {
        self.fmt
            .iter()
            .enumerate()
            .rev()
            .map_while(|(i, e)| match *e {
                Fmt::Marker => None,
                Fmt::El(node, tag) => Some((i, node, tag)),
            })
    }

    fn position_in_fmt(&self, node: u32) -> Option<usize> {
        self.fmt
            .iter()
            .position(|e| matches!(*e, Fmt::El(n, _) if n == node))
    }

    pub(in crate::links::fast) fn clear_fmt_to_marker(&mut self) {
        while let Some(e) = self.fmt.pop() {
            if let Fmt::Marker = e {
                break;
            }
        }
    }

    /// html5ever's `equiv_modulo_attr_order` on two attribute lists: equal as sets of
    /// (name, value) after dropping duplicate names (the first wins) and lossy decoding.
    fn same_attrs(a: Attrs<'_>, b: Attrs<'_>) -> bool {
        if a.len() == b.len() && a.iter().eq(b.iter()) {
            return true;
        }
        type Pairs<'t> = Vec<(std::borrow::Cow<'t, str>, std::borrow::Cow<'t, str>)>;
        fn canonical(attrs: Attrs<'_>) -> Pairs<'_> {
            let mut list: Pairs<'_> = Vec::new();
            for (name, value) in attrs.iter() {
                let name = String::from_utf8_lossy(name);
                if list.iter().all(|(n, _)| *n != name) {
                    list.push((name, String::from_utf8_lossy(value)));
                }
            }
            list.sort_unstable();
            list
        }
        canonical(a) == canonical(b)
    }

    /// Inserts a formatting element for `<a>`, `<b>`, ..., applying the Noah's Ark clause.
    pub(in crate::links::fast) fn create_formatting_element(
        &mut self,
        name: Name,
        attrs: &Attrs<'_>,
    ) {
        let mut first_match = None;
        let mut matches = 0;
        for (i, _, tag) in self.fmt_to_marker() {
            if tag.name == name && Self::same_attrs(attrs.other(tag.attrs), *attrs) {
                first_match = Some(i);
                matches += 1;
            }
        }
        if matches >= 3 {
            self.fmt.remove(first_match.expect("a match"));
        }
        let el = El { ns: Ns::Html, name };
        let node = self.insert_element(true, el, attrs);
        let rec = self.tree.node(node).rec;
        self.fmt.push(Fmt::El(
            node,
            FmtTag {
                name,
                rec,
                attrs: attrs.range,
            },
        ));
    }

    pub(super) fn is_marker_or_open(&self, entry: Fmt) -> bool {
        match entry {
            Fmt::Marker => true,
            Fmt::El(node, _) => self.tree.node(node).open,
        }
    }

    /// A new element like the one `tag` made.
    fn clone_of(&mut self, tag: FmtTag) -> u32 {
        let el = El {
            ns: Ns::Html,
            name: tag.name,
        };
        self.tree.create(el, tag.rec, false)
    }

    pub(in crate::links::fast) fn reconstruct_formatting(&mut self) {
        let Some(&last) = self.fmt.last() else {
            return;
        };
        if self.is_marker_or_open(last) {
            return;
        }
        let mut i = self.fmt.len() - 1;
        while i > 0 {
            i -= 1;
            if self.is_marker_or_open(self.fmt[i]) {
                i += 1;
                break;
            }
        }
        loop {
            let Fmt::El(_, tag) = self.fmt[i] else {
                unreachable!("marker during reconstruction");
            };
            let node = self.clone_of(tag);
            self.insert_appropriately(node, None);
            self.push(node);
            self.fmt[i] = Fmt::El(node, tag);
            if i == self.fmt.len() - 1 {
                break;
            }
            i += 1;
        }
    }

    /// "Any other end tag" in body.
    pub(in crate::links::fast) fn process_end_tag_in_body(&mut self, name: Name) {
        let mut match_idx = None;
        for (i, &node) in self.open.iter().enumerate().rev() {
            let el = self.tree.el(node);
            if el.is(name) {
                match_idx = Some(i);
                break;
            }
            if special(el) {
                return;
            }
        }
        let Some(i) = match_idx else {
            return;
        };
        self.generate_implied_end_except(name);
        self.truncate(i);
    }

    pub(in crate::links::fast) fn handle_misnested_a_tags(&mut self) {
        let found = self
            .fmt_to_marker()
            .find(|&(_, node, _)| self.tree.el(node).is(A))
            .map(|(_, node, _)| node);
        let Some(node) = found else {
            return;
        };
        self.adoption_agency(A);
        if let Some(i) = self.position_in_fmt(node) {
            self.fmt.remove(i);
        }
        self.remove_from_stack(node);
    }

    pub(in crate::links::fast) fn adoption_agency(&mut self, subject: Name) {
        // 1.
        if self.current_is(subject) && self.position_in_fmt(self.current()).is_none() {
            self.pop();
            return;
        }
        for _ in 0..8 {
            // 5.
            let found = self
                .fmt_to_marker()
                .find(|&(_, _, tag)| tag.name == subject);
            let Some((fmt_index, fmt_node, fmt_tag)) = found else {
                self.process_end_tag_in_body(subject);
                return;
            };
            // 6.
            let Some(fmt_stack_index) = self.open.iter().rposition(|&n| n == fmt_node) else {
                self.fmt.remove(fmt_index);
                return;
            };
            // 7.
            if !self.in_scope(default_scope, |n, _| n == fmt_node) {
                return;
            }
            // 9.
            let furthest = self.open[fmt_stack_index..]
                .iter()
                .position(|&n| special(self.tree.el(n)))
                .map(|i| i + fmt_stack_index);
            let Some(fb_index) = furthest else {
                // 10.
                self.truncate(fmt_stack_index);
                self.fmt.remove(fmt_index);
                return;
            };
            let furthest_block = self.open[fb_index];
            // 11.
            let common_ancestor = self.open[fmt_stack_index - 1];
            // 12. The bookmark: replace the formatting element's entry, or insert after a
            // node's entry.
            let mut bookmark_after: Option<u32> = None;
            // 13.
            let mut node_index = fb_index;
            let mut last_node = furthest_block;
            let mut inner = 0;
            loop {
                inner += 1;
                node_index -= 1;
                let node = self.open[node_index];
                if node == fmt_node {
                    break;
                }
                if inner > 3 {
                    if let Some(p) = self.position_in_fmt(node) {
                        self.fmt.remove(p);
                    }
                    self.remove_at(node_index);
                    continue;
                }
                let Some(nfi) = self.position_in_fmt(node) else {
                    self.remove_at(node_index);
                    continue;
                };
                let Fmt::El(_, tag) = self.fmt[nfi] else {
                    unreachable!("marker in the adoption agency");
                };
                let new = self.clone_of(tag);
                self.tree.node_mut(node).open = false;
                self.tree.node_mut(new).open = true;
                self.open[node_index] = new;
                self.fmt[nfi] = Fmt::El(new, tag);
                if last_node == furthest_block {
                    bookmark_after = Some(new);
                }
                self.tree.detach(last_node);
                self.tree.append(new, last_node);
                last_node = new;
            }
            // 14.
            self.tree.detach(last_node);
            self.insert_appropriately(last_node, Some(common_ancestor));
            // 15.
            let new = self.clone_of(fmt_tag);
            let entry = Fmt::El(new, fmt_tag);
            // 16., 17.
            self.tree.reparent_children(furthest_block, new);
            self.tree.append(furthest_block, new);
            // 18.
            match bookmark_after {
                None => {
                    let i = self.position_in_fmt(fmt_node).expect("bookmark");
                    self.fmt[i] = entry;
                }
                Some(prev) => {
                    let i = self.position_in_fmt(prev).expect("bookmark") + 1;
                    self.fmt.insert(i, entry);
                    let old = self.position_in_fmt(fmt_node).expect("formatting element");
                    self.fmt.remove(old);
                }
            }
            // 19.
            self.remove_from_stack(fmt_node);
            let fb = self
                .open
                .iter()
                .position(|&n| n == furthest_block)
                .expect("furthest block");
            self.tree.node_mut(new).open = true;
            self.open.insert(fb + 1, new);
        }
    }
}
