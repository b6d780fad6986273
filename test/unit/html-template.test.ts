import { expect } from 'chai';
import { html, joinHtml, toHtmlString, trusted } from '../../src/report/html-template.js';

describe('the html template', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const v = '"><img src=x onerror=alert(1)>';
    expect(toHtmlString(html`<td class="verdict ${v}">${v}</td>`)).to.equal('<td class="verdict &quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>');
    expect(toHtmlString(html`<a title='${"x' onmouseover='y"}'>`)).to.equal("<a title='x&#39; onmouseover=&#39;y'>");
  });

  it('passes html-made pieces as markup, lists concatenated, and nothing for null, undefined and false', () => {
    const rows = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    expect(toHtmlString(html`<ul>${rows}${null}${undefined}${false}</ul>`)).to.equal('<ul><li>a&lt;b</li><li>c</li></ul>');
    expect(toHtmlString(joinHtml([html`<b>1</b>`, '<2>'], ' & '))).to.equal('<b>1</b> &amp; &lt;2&gt;');
  });

  it('a plain object or a string that looks like markup is still text; only trusted() passes a constant as is', () => {
    const fake = { value: '<script>' } as unknown as string;
    expect(toHtmlString(html`${fake}`)).to.not.contain('<script>');
    expect(toHtmlString(html`<style>${trusted('a > b { color: red }')}</style>`)).to.equal('<style>a > b { color: red }</style>');
  });

  it('numbers as numbers; a non-finite one is nothing', () => {
    expect(toHtmlString(html`<rect x="${12.5}" y="${Number.NaN}"/>`)).to.equal('<rect x="12.5" y=""/>');
  });
});
