//! Quirks mode from the DOCTYPE, as html5ever 0.26's `doctype_error_and_quirks` decides it.
//!
//! Only one thing depends on it here: in quirks mode `<table>` does not close an open `<p>`,
//! which changes where later elements (and so links) end up. A document without a DOCTYPE is in
//! quirks mode too, but that is the tree builder's business (the "initial" insertion mode).

use super::tokenizer::Doctype;

/// Public identifiers that are quirky when a DOCTYPE starts with them (lowercase).
const QUIRKY_PUBLIC_PREFIXES: &[&str] = &[
    "-//advasoft ltd//dtd html 3.0 aswedit + extensions//",
    "-//as//dtd html 3.0 aswedit + extensions//",
    "-//ietf//dtd html 2.0 level 1//",
    "-//ietf//dtd html 2.0 level 2//",
    "-//ietf//dtd html 2.0 strict level 1//",
    "-//ietf//dtd html 2.0 strict level 2//",
    "-//ietf//dtd html 2.0 strict//",
    "-//ietf//dtd html 2.0//",
    "-//ietf//dtd html 2.1e//",
    "-//ietf//dtd html 3.0//",
    "-//ietf//dtd html 3.2 final//",
    "-//ietf//dtd html 3.2//",
    "-//ietf//dtd html 3//",
    "-//ietf//dtd html level 0//",
    "-//ietf//dtd html level 1//",
    "-//ietf//dtd html level 2//",
    "-//ietf//dtd html level 3//",
    "-//ietf//dtd html strict level 0//",
    "-//ietf//dtd html strict level 1//",
    "-//ietf//dtd html strict level 2//",
    "-//ietf//dtd html strict level 3//",
    "-//ietf//dtd html strict//",
    "-//ietf//dtd html//",
    "-//metrius//dtd metrius presentational//",
    "-//microsoft//dtd internet explorer 2.0 html strict//",
    "-//microsoft//dtd internet explorer 2.0 html//",
    "-//microsoft//dtd internet explorer 2.0 tables//",
    "-//microsoft//dtd internet explorer 3.0 html strict//",
    "-//microsoft//dtd internet explorer 3.0 html//",
    "-//microsoft//dtd internet explorer 3.0 tables//",
    "-//netscape comm. corp.//dtd html//",
    "-//netscape comm. corp.//dtd strict html//",
    "-//o'reilly and associates//dtd html 2.0//",
    "-//o'reilly and associates//dtd html extended 1.0//",
    "-//o'reilly and associates//dtd html extended relaxed 1.0//",
    "-//softquad software//dtd hotmetal pro 6.0::19990601::extensions to html 4.0//",
    "-//softquad//dtd hotmetal pro 4.0::19971010::extensions to html 4.0//",
    "-//spyglass//dtd html 2.0 extended//",
    "-//sq//dtd html 2.0 hotmetal + extensions//",
    "-//sun microsystems corp.//dtd hotjava html//",
    "-//sun microsystems corp.//dtd hotjava strict html//",
    "-//w3c//dtd html 3 1995-03-24//",
    "-//w3c//dtd html 3.2 draft//",
    "-//w3c//dtd html 3.2 final//",
    "-//w3c//dtd html 3.2//",
    "-//w3c//dtd html 3.2s draft//",
    "-//w3c//dtd html 4.0 frameset//",
    "-//w3c//dtd html 4.0 transitional//",
    "-//w3c//dtd html experimental 19960712//",
    "-//w3c//dtd html experimental 970421//",
    "-//w3c//dtd w3 html//",
    "-//w3o//dtd w3 html 3.0//",
    "-//webtechs//dtd mozilla html 2.0//",
    "-//webtechs//dtd mozilla html//",
];

/// Public identifiers that are quirky when equal.
const QUIRKY_PUBLIC_MATCHES: &[&str] = &[
    "-//w3o//dtd w3 html strict 3.0//en//",
    "-/w3c/dtd html 4.0 transitional/en",
    "html",
];

/// System identifiers that are quirky when equal.
const QUIRKY_SYSTEM_MATCHES: &[&str] =
    &["http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd"];

/// Public identifiers that give limited quirks (not quirks).
const LIMITED_QUIRKY_PUBLIC_PREFIXES: &[&str] = &[
    "-//w3c//dtd xhtml 1.0 frameset//",
    "-//w3c//dtd xhtml 1.0 transitional//",
];

/// HTML 4.01 transitional and frameset: quirks without a system identifier.
const HTML4_PUBLIC_PREFIXES: &[&str] = &[
    "-//w3c//dtd html 4.01 frameset//",
    "-//w3c//dtd html 4.01 transitional//",
];

/// Whether `doctype` puts the document in (full) quirks mode.
pub(super) fn is_quirks(doctype: &Doctype) -> bool {
    if doctype.force_quirks || !doctype.name.is_some_and(|n| n.is_html()) {
        return true;
    }
    let lower = |id: &Option<Vec<u8>>| id.as_ref().map(|v| v.to_ascii_lowercase());
    let public = lower(&doctype.public_id);
    let system = lower(&doctype.system_id);
    let starts = |list: &[&str], id: &[u8]| list.iter().any(|p| id.starts_with(p.as_bytes()));
    if let Some(p) = &public {
        if QUIRKY_PUBLIC_MATCHES
            .iter()
            .any(|m| m.as_bytes() == p.as_slice())
        {
            return true;
        }
    }
    if let Some(s) = &system {
        if QUIRKY_SYSTEM_MATCHES
            .iter()
            .any(|m| m.as_bytes() == s.as_slice())
        {
            return true;
        }
    }
    match &public {
        Some(p) if starts(QUIRKY_PUBLIC_PREFIXES, p) => true,
        Some(p) if starts(LIMITED_QUIRKY_PUBLIC_PREFIXES, p) => false,
        Some(p) if starts(HTML4_PUBLIC_PREFIXES, p) => system.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokenizer::DoctypeName;
    use super::*;

    fn doctype(name: &str, public: Option<&str>, system: Option<&str>) -> Doctype {
        Doctype {
            name: Some({
                let mut n = DoctypeName::default();
                n.push(name.as_bytes());
                n
            }),
            public_id: public.map(|s| s.as_bytes().to_vec()),
            system_id: system.map(|s| s.as_bytes().to_vec()),
            force_quirks: false,
        }
    }

    #[test]
    fn quirks_decisions() {
        assert!(!is_quirks(&doctype("html", None, None)));
        assert!(is_quirks(&doctype("htm", None, None)));
        assert!(is_quirks(&doctype("htmlx", None, None)));
        assert!(is_quirks(&doctype("", None, None)));
        assert!(is_quirks(&doctype(
            "html",
            Some("-//W3C//DTD HTML 4.01 Transitional//EN"),
            None
        )));
        assert!(!is_quirks(&doctype(
            "html",
            Some("-//W3C//DTD HTML 4.01 Transitional//EN"),
            Some("http://www.w3.org/TR/html4/loose.dtd")
        )));
        assert!(!is_quirks(&doctype(
            "html",
            Some("-//W3C//DTD XHTML 1.0 Transitional//EN"),
            None
        )));
        assert!(is_quirks(&doctype("html", Some("HTML"), None)));
        assert!(is_quirks(&Doctype {
            force_quirks: true,
            ..doctype("html", None, None)
        }));
    }
}
