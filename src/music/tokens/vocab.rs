//! The vocabulary: tokens to the integer ids a model sees, saved with the model as a list of
//! token texts.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::token::{BadToken, Token};

/// An ordered set of tokens. Ids are positions in the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Vocab {
    tokens: Vec<Token>,
    index: HashMap<Token, u32>,
}

impl Vocab {
    /// A vocabulary of distinct tokens in the order given (later repeats are ignored).
    pub fn new(tokens: impl IntoIterator<Item = Token>) -> Self {
        let mut v = Vocab {
            tokens: Vec::new(),
            index: HashMap::new(),
        };
        for t in tokens {
            if !v.index.contains_key(&t) {
                v.index.insert(t.clone(), v.tokens.len() as u32);
                v.tokens.push(t);
            }
        }
        v
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn id(&self, token: &Token) -> Option<u32> {
        self.index.get(token).copied()
    }

    pub fn token(&self, id: u32) -> Option<&Token> {
        self.tokens.get(id as usize)
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Ids of the tokens that are in the vocabulary, and how many were not.
    pub fn encode(&self, tokens: &[Token]) -> (Vec<u32>, usize) {
        let mut missing = 0;
        let ids = tokens
            .iter()
            .filter_map(|t| {
                let id = self.id(t);
                missing += id.is_none() as usize;
                id
            })
            .collect();
        (ids, missing)
    }

    /// Tokens of ids; ids outside the vocabulary are skipped.
    pub fn decode(&self, ids: &[u32]) -> Vec<Token> {
        ids.iter().filter_map(|&i| self.token(i).cloned()).collect()
    }
}

impl TryFrom<Vec<String>> for Vocab {
    type Error = BadToken;

    fn try_from(texts: Vec<String>) -> Result<Self, Self::Error> {
        let tokens = texts
            .iter()
            .map(|s| s.parse::<Token>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Vocab::new(tokens))
    }
}

impl From<Vocab> for Vec<String> {
    fn from(v: Vocab) -> Self {
        v.tokens.iter().map(|t| t.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_saves_as_text_and_loads_back() {
        let v = Vocab::new([
            Token::Bar { num: 4, den: 4 },
            Token::Pitch(60),
            Token::Chord(0b1000_1000_0100),
            Token::Style("jazz".into()),
            Token::Pitch(60),
        ]);
        assert_eq!(v.len(), 4);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"["Bar_4/4","Pitch_60","7.11.2","Style_jazz"]"#);
        let back: Vocab = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.id(&Token::Style("jazz".into())), Some(3));
        assert!(serde_json::from_str::<Vocab>(r#"["Nope_1"]"#).is_err());
    }
}
